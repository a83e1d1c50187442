/**
 * Loads procnas's own kernels (kernels/src/*.c) for the TF.js WASM backend, so that they read and
 * write its tensors in place. One set of sources, two builds:
 * - `wasm`: the committed WebAssembly module (scripts/build-kernels.sh); runs everywhere, with
 *   128-bit SIMD;
 * - `host`: built at install time for the machine at hand when clang is there
 *   (scripts/build-host-kernels.sh, kernels/binding.gyp), with the machine's full vector width.
 * Both take tensors as byte offsets into the backend's memory. The host build is used when it
 * loads, unless PROCNAS_KERNELS=wasm.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { EngineError } from '../errors.js';

/** Arguments shared by the convolution kernels: three tensors, then the geometry. */
export type Conv2dGrad = (
  a: number, b: number, out: number,
  batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
  kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
) => void;

export interface ProcnasKernels {
  conv2d_forward: Conv2dGrad;
  conv2d_backprop_filter: Conv2dGrad;
  conv2d_backprop_input(
    dy: number, w: number, dx: number, scratch: number,
    batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
    kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
  ): void;
  depthwise_forward: Conv2dGrad;
  depthwise_backprop_input: Conv2dGrad;
  depthwise_backprop_filter: Conv2dGrad;
  pointwise_forward(x: number, w: number, y: number, pixels: number, inC: number, outC: number): void;
  pointwise_backprop_input(dy: number, w: number, dx: number, scratch: number, pixels: number, inC: number, outC: number): void;
  pointwise_backprop_filter(x: number, dy: number, dw: number, pixels: number, inC: number, outC: number): void;
  sgd_momentum(w: number, g: number, buffer: number, wOut: number, bufferOut: number, n: number, rate: number, momentum: number, decay: number, first: number): void;
  moving_average(average: number, sample: number, out: number, n: number, keep: number, scale: number): void;
  bn_statistics(x: number, mean: number, invstd: number, variance: number, scratch: number, rows: number, channels: number, epsilon: number): void;
  bn_apply(x: number, mean: number, invstd: number, gamma: number, beta: number, y: number, rows: number, channels: number, act: number): void;
  bn_backward(
    dy: number, x: number, mean: number, invstd: number, gamma: number, beta: number,
    dx: number, dgamma: number, dbeta: number, scratch: number, rows: number, channels: number, act: number,
  ): void;
  bn_depthwise_forward: BatchNormDepthwise;
  bn_depthwise_backprop_filter: BatchNormDepthwise;
}

/**
 * Batch norm (+ activation) fused into the depthwise convolution it feeds: the input, the
 * statistics and the batch norm's parameters, a tensor read (the filter, or the output
 * gradient), the output, a ring of three input rows (scratch), the activation, then the geometry.
 */
export type BatchNormDepthwise = (
  x: number, mean: number, invstd: number, gamma: number, beta: number, read: number, out: number, ring: number, act: number,
  batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, multiplier: number,
  kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
) => void;

export const KERNELS_WASM = new URL('../../../kernels/procnas-kernels.wasm', import.meta.url);
/** Where scripts/build-host-kernels.sh (node-gyp) puts the host build; from src/ and dist/ alike. */
export const KERNELS_HOST = new URL('../../../kernels/build/Release/procnas_kernels.node', import.meta.url);

/** Which build of procnas's kernels runs. */
export type KernelBuild = 'host' | 'wasm';

/** The host build's functions: the backend's memory first, then the WebAssembly build's arguments. */
type HostKernels = { [K in keyof ProcnasKernels]: (memory: ArrayBuffer, ...args: Parameters<ProcnasKernels[K]>) => void };

let host: HostKernels | null | undefined;
let hostFailure = '';

/** The host build, or null when it was not built or does not load here (the reason is kept). */
function loadHost(): HostKernels | null {
  if (host !== undefined) return host;
  host = null;
  const path = fileURLToPath(KERNELS_HOST);
  if (!existsSync(path)) {
    hostFailure = `${path} was not built (npm install builds it when clang is there; scripts/build-host-kernels.sh)`;
    return host;
  }
  try {
    host = createRequire(import.meta.url)(path) as HostKernels;
  } catch (error) {
    hostFailure = error instanceof Error ? error.message : String(error);
  }
  return host;
}

/**
 * The build the engine uses: PROCNAS_KERNELS (host or wasm) when set, else host when it loads.
 * Asking for host where it does not load is an error, not a silent fallback.
 */
export function kernelBuild(): KernelBuild {
  const wanted = process.env.PROCNAS_KERNELS;
  if (wanted === 'wasm') return 'wasm';
  if (wanted !== undefined && wanted !== 'host') throw new EngineError(`PROCNAS_KERNELS=${wanted}: expected host or wasm`);
  if (loadHost()) return 'host';
  if (wanted === 'host') throw new EngineError(`PROCNAS_KERNELS=host, but the host kernels do not load: ${hostFailure}`);
  return 'wasm';
}

const instances = new WeakMap<BackendWasm, { build: KernelBuild; kernels: ProcnasKernels }>();

/** The backend's WebAssembly.Memory (the Emscripten module exports it as `asm.memory`). */
function backendMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as { asm?: { memory?: unknown } };
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('procnas: cannot find the memory of the TF.js WASM backend (unexpected tfjs-backend-wasm version)');
  }
  return memory;
}

function wasmKernels(memory: WebAssembly.Memory): ProcnasKernels {
  const module = new WebAssembly.Module(readFileSync(KERNELS_WASM));
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ProcnasKernels;
}

/** The host functions given the memory's current buffer at each call (growing the memory replaces it). */
function hostKernels(n: HostKernels, memory: WebAssembly.Memory): ProcnasKernels {
  const bind = <K extends keyof ProcnasKernels>(name: K): ProcnasKernels[K] => {
    const f = n[name] as (memory: ArrayBuffer, ...args: number[]) => void;
    return ((...args: number[]) => f(memory.buffer, ...args)) as ProcnasKernels[K];
  };
  return {
    conv2d_forward: bind('conv2d_forward'),
    conv2d_backprop_filter: bind('conv2d_backprop_filter'),
    conv2d_backprop_input: bind('conv2d_backprop_input'),
    depthwise_forward: bind('depthwise_forward'),
    depthwise_backprop_input: bind('depthwise_backprop_input'),
    depthwise_backprop_filter: bind('depthwise_backprop_filter'),
    pointwise_forward: bind('pointwise_forward'),
    pointwise_backprop_input: bind('pointwise_backprop_input'),
    pointwise_backprop_filter: bind('pointwise_backprop_filter'),
    sgd_momentum: bind('sgd_momentum'),
    moving_average: bind('moving_average'),
    bn_statistics: bind('bn_statistics'),
    bn_apply: bind('bn_apply'),
    bn_backward: bind('bn_backward'),
    bn_depthwise_forward: bind('bn_depthwise_forward'),
    bn_depthwise_backprop_filter: bind('bn_depthwise_backprop_filter'),
  };
}

/** The kernels of the build `kernelBuild()` names, bound to this backend's memory. */
export function procnasKernels(backend: BackendWasm): ProcnasKernels {
  const build = kernelBuild();
  let entry = instances.get(backend);
  if (!entry || entry.build !== build) {
    const memory = backendMemory(backend);
    const n = build === 'host' ? loadHost() : null;
    entry = { build, kernels: n ? hostKernels(n, memory) : wasmKernels(memory) };
    instances.set(backend, entry);
  }
  return entry.kernels;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function offsetOf(backend: BackendWasm, dataId: object): number {
  const data = backend.dataIdMap.get(dataId);
  if (!data) throw new Error('procnas: tensor data not found in the WASM backend');
  return data.memoryOffset;
}
