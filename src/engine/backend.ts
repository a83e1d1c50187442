/**
 * Chooses and prepares the TF.js backend: the native Node backend when the user has
 * @tensorflow/tfjs-node installed (never required), else WebAssembly with procnas's extra
 * kernels; the pure-JS `cpu` backend only on request (gradient checks).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_KERNELS } from './kernels/batch-norm.js';
import { BATCH_NORM_DEPTHWISE_KERNELS } from './kernels/batch-norm-depthwise.js';
import { CONVOLUTION_KERNELS, conv2DKernel } from './kernels/convolution.js';
import { EngineError } from './errors.js';
import { IDENTITY_KERNEL } from './kernels/identity.js';
import { kernelBuild } from './kernels/module.js';
import { UPDATE_KERNELS } from './kernels/update.js';
import { tf } from './tf.js';

export type BackendChoice = 'auto' | 'native' | 'wasm' | 'cpu';

export { EngineError } from './errors.js';
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let wasmPrepared = false;

function prepareWasm(): void {
  if (wasmPrepared) return;
  // A PROCNAS_KERNELS the engine cannot honour is reported here, before any training starts.
  kernelBuild();
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  setWasmPaths(`${dist}/`);
  const stockConv2D = tf.getKernel('Conv2D', 'wasm');
  if (!stockConv2D) throw new EngineError('the TF.js WASM backend registers no Conv2D kernel (unexpected tfjs-backend-wasm version)');
  for (const kernel of [...CONVOLUTION_KERNELS, conv2DKernel(stockConv2D), ...BATCH_NORM_KERNELS, ...BATCH_NORM_DEPTHWISE_KERNELS, ...UPDATE_KERNELS, IDENTITY_KERNEL]) {
    // Some replace stock kernels that are too slow for training.
    if (tf.getKernel(kernel.kernelName, 'wasm')) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(kernel);
  }
  wasmPrepared = true;
}

async function tryNative(): Promise<boolean> {
  try {
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
  } catch {
    return false;
  }
}

/** Sets the backend; returns the one in use. */
export async function initEngine(choice: BackendChoice = 'auto'): Promise<BackendName> {
  // Production mode: no debug checks, and no console banner suggesting tfjs-node.
  tf.enableProdMode();
  if (choice === 'native' || choice === 'auto') {
    if (await tryNative()) return 'tensorflow';
    if (choice === 'native') throw new EngineError('the native backend needs @tensorflow/tfjs-node, which is not installed or does not load (npm install @tensorflow/tfjs-node where it can download libtensorflow)');
  }
  if (choice === 'cpu') {
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  }
  prepareWasm();
  if (!(await tf.setBackend('wasm'))) throw new EngineError('the TF.js WASM backend failed to start');
  await tf.ready();
  return 'wasm';
}
