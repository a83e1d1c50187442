/**
 * Accuracy of an exported model through onnxruntime: a trained candidate's validation and test
 * need forward passes only, and onnxruntime runs this project's networks about ten times faster
 * than TF.js's wasm backend does in inference (batch norms folded, fused kernels): on the main
 * job's MNIST net, 2000 validation images took 3.0 s in TF.js and 0.25 s here, export and
 * session included. The exporter is the one `procnas export` uses, verified against TF.js.
 */
import * as ort from 'onnxruntime-node';

/** Labelled images as the engine prepares them: NHWC float32, int32 labels. */
export interface LabelledImages {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

export interface ClassifierOptions {
  /** Intra-op threads of onnxruntime: 1 where each core runs its own training. */
  threads: number;
  /** Images per run. */
  batch: number;
  /**
   * onnxruntime's graph optimisations: `all` fuses (a quantised model's QuantizeLinear /
   * DequantizeLinear pairs become int8 kernels); `disabled` runs every node as written.
   */
  optimization: 'all' | 'disabled';
}

/**
 * Batches of 32: a session's first run grows onnxruntime's memory arena to the batch's
 * activations, and a large arena is fresh memory whose pages fault in at first touch, in every
 * new session (every job). On the main job's MNIST net, 2000 images took 0.48-0.66 s at batch
 * 256 (the first run alone 0.25-0.35 s) and 0.16-0.28 s at batch 32 (bench/evaluation.ts).
 */
export const DEFAULT_CLASSIFIER: ClassifierOptions = { threads: 1, batch: 32, optimization: 'all' };

/** Images from NHWC (the engine's layout) to NCHW (the exported model's), into `out`. */
export function toNchw(nhwc: Float32Array, count: number, shape: { h: number; w: number; c: number }, out: Float32Array): Float32Array {
  const pixels = shape.h * shape.w * shape.c;
  const plane = shape.h * shape.w;
  if (shape.c === 1) return nhwc.subarray(0, count * pixels);
  const data = out.subarray(0, count * pixels);
  for (let n = 0; n < count; n++)
    for (let p = 0; p < plane; p++) for (let ch = 0; ch < shape.c; ch++) data[n * pixels + ch * plane + p] = nhwc[n * pixels + p * shape.c + ch] as number;
  return data;
}

/** An exported model, loaded once, that counts how many images it labels right. */
export interface OnnxClassifier {
  /** Top-1 accuracy on the images (NaN for none). */
  accuracy(images: LabelledImages): Promise<number>;
  /** Logits [count, classes] of the images, row by row. */
  logits(images: LabelledImages): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Loads an exported model (`exportOnnx`: input NCHW [batch, c, h, w], output logits) to classify
 * NHWC images of `shape`.
 */
export async function onnxClassifier(model: Uint8Array, shape: { h: number; w: number; c: number }, options: Partial<ClassifierOptions> = {}): Promise<OnnxClassifier> {
  const o = { ...DEFAULT_CLASSIFIER, ...options };
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: o.optimization });
  const input = session.inputNames[0] as string;
  const output = session.outputNames[0] as string;
  const pixels = shape.h * shape.w * shape.c;
  const nchw = new Float32Array(o.batch * pixels);

  /** Runs the images in batches; `each` gets a batch's logits and where it starts. */
  async function forEachBatch(images: LabelledImages, each: (logits: Float32Array, first: number, count: number) => void): Promise<void> {
    for (let first = 0; first < images.count; first += o.batch) {
      const count = Math.min(o.batch, images.count - first);
      const data = toNchw(images.x.subarray(first * pixels, (first + count) * pixels), count, shape, nchw);
      const result = await session.run({ [input]: new ort.Tensor('float32', data, [count, shape.c, shape.h, shape.w]) });
      const logits = result[output] as ort.Tensor;
      each(logits.data as Float32Array, first, count);
      logits.dispose();
    }
  }

  return {
    async accuracy(images) {
      if (images.count === 0) return Number.NaN;
      let correct = 0;
      await forEachBatch(images, (logits, first, count) => {
        const classes = logits.length / count;
        for (let i = 0; i < count; i++) {
          // The first of equal maxima, as TF.js's argMax takes it.
          let best = 0;
          for (let k = 1; k < classes; k++) if ((logits[i * classes + k] as number) > (logits[i * classes + best] as number)) best = k;
          if (best === images.y[first + i]) correct++;
        }
      });
      return correct / images.count;
    },
    async logits(images) {
      const parts: Float32Array[] = [];
      await forEachBatch(images, (logits) => parts.push(Float32Array.from(logits)));
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
    release: () => session.release(),
  };
}
