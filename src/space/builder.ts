/**
 * Records basic operations into a LayerGraph, inferring shapes, parameters and MACs, and
 * rejecting ill-formed operations with the path of the block that asked for them.
 */
import { ArchitectureError } from './errors.js';
import type { Composite, Layer, LayerKind, Part, Shape } from './graph.js';
import { elements } from './graph.js';
import { MAX_EXPANSION, MAX_SIZE } from './notation.js';
import type { Activation } from './notation.js';

export interface ConvOptions {
  out: number;
  kernel: number;
  stride?: number;
  groups?: number;
  dilation?: number;
  /** Defaults to "same"-style padding: floor(dilation·(kernel-1)/2). */
  pad?: number;
  bias?: boolean;
}

export interface PoolOptions {
  kernel: number;
  stride?: number;
  pad?: number;
  countIncludePad?: boolean;
}

/** Output length of a sliding window, PyTorch's formula. */
export function windowOutput(size: number, kernel: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

export class GraphBuilder {
  readonly tensors: Shape[] = [];
  readonly producers: number[] = [];
  readonly layers: Layer[] = [];
  readonly composites: Composite[] = [];
  /** Where in the architecture file the current composite came from, for errors. */
  path = '';
  private prefix = '';

  input(shape: Shape): number {
    return this.addTensor(shape, -1);
  }

  shape(tensor: number): Shape {
    const shape = this.tensors[tensor];
    if (!shape) throw new Error(`internal: unknown tensor ${tensor}`);
    return shape;
  }

  /** Runs `body` as one composite operation; its layers are named `name.<layer>`. */
  composite(
    meta: { name: string; notation: string; part: Part; stage: number; block: number; path: string },
    input: number,
    body: (x: number) => number,
  ): number {
    const index = this.composites.length;
    const firstLayer = this.layers.length;
    this.prefix = meta.name;
    this.path = meta.path;
    const output = body(input);
    this.composites.push({
      name: meta.name,
      notation: meta.notation,
      part: meta.part,
      stage: meta.stage,
      block: meta.block,
      firstLayer,
      endLayer: this.layers.length,
      input,
      output,
    });
    for (let i = firstLayer; i < this.layers.length; i++) (this.layers[i] as Layer).composite = index;
    return output;
  }

  fail(message: string): never {
    throw ArchitectureError.at(this.path, message);
  }

  /**
   * The width a block derives from another by its expansion: `channels × expand` (an inverted
   * residual's hidden width), or `channels / expand` (a bottleneck's, from its output). Every
   * block, written in notation or as an object, built by a search or a supernet, gets its width
   * here: an expansion above MAX_EXPANSION, a width below one channel, or one above MAX_SIZE is
   * refused with the block's path.
   */
  expandedWidth(channels: number, expand: number, how: 'times' | 'over'): number {
    const of = how === 'times' ? `expansion ${expand} of ${channels} channels` : `${channels} channels over expansion ${expand}`;
    if (!(expand > 0 && expand <= MAX_EXPANSION)) this.fail(`expansion must be above 0 and at most ${MAX_EXPANSION}, got ${expand}`);
    const width = how === 'times' ? Math.round(channels * expand) : channels / expand;
    const shown = Number(width.toPrecision(3));
    if (!(width >= 1)) this.fail(`${of} gives ${shown} channels, fewer than one`);
    if (width > MAX_SIZE) this.fail(`${of} gives ${shown} channels, more than the ${MAX_SIZE} a layer may have`);
    return width;
  }

  conv(x: number, name: string, o: ConvOptions): number {
    const s = this.shape(x);
    const stride = o.stride ?? 1;
    const groups = o.groups ?? 1;
    const dilation = o.dilation ?? 1;
    const pad = o.pad ?? Math.floor((dilation * (o.kernel - 1)) / 2);
    this.checkPositive({ out: o.out, kernel: o.kernel, stride, groups, dilation }, name);
    if (s.c % groups !== 0 || o.out % groups !== 0) {
      this.fail(`${name}: groups ${groups} must divide input channels ${s.c} and output channels ${o.out}`);
    }
    const h = windowOutput(s.h, o.kernel, stride, pad, dilation);
    const w = windowOutput(s.w, o.kernel, stride, pad, dilation);
    if (h < 1 || w < 1) {
      const field = dilation > 1 ? ` with dilation ${dilation} (a ${dilation * (o.kernel - 1) + 1}x${dilation * (o.kernel - 1) + 1} field)` : '';
      this.fail(`${name}: a ${o.kernel}x${o.kernel} window${field} with stride ${stride} and padding ${pad} does not fit a ${s.h}x${s.w} input`);
    }
    const perOutput = o.kernel * o.kernel * (s.c / groups);
    const bias = o.bias ?? false;
    return this.push('conv', name, [x], { h, w, c: o.out }, {
      kernel: o.kernel,
      stride,
      pad,
      dilation,
      groups,
      bias,
      params: perOutput * o.out + (bias ? o.out : 0),
      macs: (perOutput + (bias ? 1 : 0)) * o.out * h * w,
    });
  }

  bn(x: number, name = 'bn'): number {
    return this.push('bn', name, [x], this.shape(x), { params: 2 * this.shape(x).c });
  }

  act(x: number, act: Activation, name: string = act): number {
    if (act === 'none') return x;
    return this.push('act', name, [x], this.shape(x), { act });
  }

  pool(kind: 'maxpool' | 'avgpool', x: number, name: string, o: PoolOptions): number {
    const s = this.shape(x);
    const stride = o.stride ?? 1;
    const pad = o.pad ?? Math.floor((o.kernel - 1) / 2);
    this.checkPositive({ kernel: o.kernel, stride }, name);
    if (2 * pad > o.kernel) this.fail(`${name}: padding ${pad} must be at most half the ${o.kernel}x${o.kernel} window`);
    const h = windowOutput(s.h, o.kernel, stride, pad);
    const w = windowOutput(s.w, o.kernel, stride, pad);
    if (h < 1 || w < 1) this.fail(`${name}: a ${o.kernel}x${o.kernel} pool does not fit a ${s.h}x${s.w} input`);
    return this.push(kind, name, [x], { h, w, c: s.c }, {
      kernel: o.kernel,
      stride,
      pad,
      countIncludePad: o.countIncludePad ?? false,
    });
  }

  gap(x: number, name = 'gap'): number {
    return this.push('gap', name, [x], { h: 1, w: 1, c: this.shape(x).c }, {});
  }

  /** Squeeze-excite: global pool, 1x1 reduce (bias), act, 1x1 expand (bias), sigmoid gate, scale. */
  se(x: number, squeeze: number, act: Activation, name = 'se'): number {
    const c = this.shape(x).c;
    this.checkPositive({ squeeze }, name);
    return this.push('se', name, [x], this.shape(x), {
      act,
      squeeze,
      params: 2 * c * squeeze + c + squeeze,
      macs: 2 * c * squeeze + c + squeeze,
    });
  }

  add(xs: number[], name = 'add'): number {
    const [first, ...rest] = xs;
    if (first === undefined) this.fail(`${name}: nothing to add`);
    if (rest.length === 0) return first;
    const s = this.shape(first);
    for (const x of rest) {
      const t = this.shape(x);
      if (t.h !== s.h || t.w !== s.w || t.c !== s.c) {
        this.fail(`${name}: cannot add tensors of different shapes ${fmt(s)} and ${fmt(t)}`);
      }
    }
    return this.push('add', name, xs, s, {});
  }

  concat(xs: number[], name = 'concat'): number {
    const [first, ...rest] = xs;
    if (first === undefined) this.fail(`${name}: nothing to concatenate`);
    if (rest.length === 0) return first;
    const s = this.shape(first);
    let c = s.c;
    for (const x of rest) {
      const t = this.shape(x);
      if (t.h !== s.h || t.w !== s.w) {
        this.fail(`${name}: cannot concatenate ${fmt(s)} with ${fmt(t)}: spatial sizes differ`);
      }
      c += t.c;
    }
    return this.push('concat', name, xs, { h: s.h, w: s.w, c }, {});
  }

  dense(x: number, out: number, name = 'fc', bias = true): number {
    const s = this.shape(x);
    this.checkPositive({ out }, name);
    if (s.h !== 1 || s.w !== 1) {
      this.fail(`${name}: a dense layer needs a 1x1 input, got ${fmt(s)}; put global average pooling ("gap") before it`);
    }
    return this.push('dense', name, [x], { h: 1, w: 1, c: out }, {
      bias,
      params: s.c * out + (bias ? out : 0),
      macs: s.c * out + (bias ? out : 0),
    });
  }

  /** A tensor of zeros: the value of a NAS-Bench-201 node whose every incoming edge is `none`. */
  zero(shape: Shape, name = 'zero'): number {
    return this.push('zero', name, [], shape, {});
  }

  private checkPositive(values: Record<string, number>, name: string): void {
    for (const [key, value] of Object.entries(values)) {
      if (!Number.isInteger(value) || value < 1) this.fail(`${name}: ${key} must be a positive integer, got ${value}`);
    }
  }

  private addTensor(shape: Shape, producer: number): number {
    if (elements(shape) < 1) this.fail(`empty tensor ${fmt(shape)}`);
    this.tensors.push(shape);
    this.producers.push(producer);
    return this.tensors.length - 1;
  }

  private push(kind: LayerKind, name: string, inputs: number[], shape: Shape, fields: Partial<Layer>): number {
    const index = this.layers.length;
    const output = this.addTensor(shape, index);
    this.layers.push({
      name: this.prefix ? `${this.prefix}.${name}` : name,
      kind,
      inputs,
      output,
      composite: -1,
      kernel: 1,
      stride: 1,
      pad: 0,
      dilation: 1,
      groups: 1,
      bias: false,
      act: 'none',
      countIncludePad: false,
      squeeze: 0,
      params: 0,
      macs: 0,
      ...fields,
    });
    return output;
  }
}

export function fmt(s: Shape): string {
  return `${s.h}x${s.w}x${s.c}`;
}
