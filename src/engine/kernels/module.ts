/**
 * Loads procnas's own WebAssembly kernels (kernels/src/*.c, built by scripts/build-kernels.sh)
 * into the memory of the TF.js WASM backend, so that they read and write tensors in place.
 */
import { readFileSync } from 'node:fs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Arguments shared by the convolution kernels: three tensors, then the geometry. */
export type Conv2dGrad = (
  a: number, b: number, out: number,
  batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
  kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
) => void;

export interface ProcnasKernels {
  conv2d_backprop_filter: Conv2dGrad;
  conv2d_backprop_input(
    dy: number, w: number, dx: number, scratch: number,
    batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
    kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
  ): void;
  depthwise_forward: Conv2dGrad;
  depthwise_backprop_input: Conv2dGrad;
  depthwise_backprop_filter: Conv2dGrad;
  bn_statistics(x: number, mean: number, invstd: number, scratch: number, rows: number, channels: number, epsilon: number): void;
  bn_apply(x: number, mean: number, invstd: number, gamma: number, beta: number, y: number, rows: number, channels: number, act: number): void;
  bn_backward(
    dy: number, x: number, mean: number, invstd: number, gamma: number, beta: number,
    dx: number, dgamma: number, dbeta: number, scratch: number, rows: number, channels: number, act: number,
  ): void;
}

export const KERNELS_WASM = new URL('../../../kernels/procnas-kernels.wasm', import.meta.url);

const instances = new WeakMap<BackendWasm, ProcnasKernels>();

/** The backend's WebAssembly.Memory (the Emscripten module exports it as `asm.memory`). */
function backendMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as { asm?: { memory?: unknown } };
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('procnas: cannot find the memory of the TF.js WASM backend (unexpected tfjs-backend-wasm version)');
  }
  return memory;
}

export function procnasKernels(backend: BackendWasm): ProcnasKernels {
  let kernels = instances.get(backend);
  if (!kernels) {
    const module = new WebAssembly.Module(readFileSync(KERNELS_WASM));
    const instance = new WebAssembly.Instance(module, { env: { memory: backendMemory(backend) } });
    kernels = instance.exports as unknown as ProcnasKernels;
    instances.set(backend, kernels);
  }
  return kernels;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function offsetOf(backend: BackendWasm, dataId: object): number {
  const data = backend.dataIdMap.get(dataId);
  if (!data) throw new Error('procnas: tensor data not found in the WASM backend');
  return data.memoryOffset;
}
