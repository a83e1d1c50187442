/**
 * Preloaded into a spawned CLI by test/cli.test.ts (node --import tsx --import this file): makes
 * every TF.js kernel throw a plain Error once the WASM backend is running, to check how the CLI
 * reports an error it does not know, after the Emscripten module has installed its handlers.
 */
import { tf } from '../src/engine/tf.js';

const engine = tf.engine() as unknown as { backendName: string; runKernel: (...args: unknown[]) => unknown };
const runKernel = engine.runKernel.bind(engine);
engine.runKernel = (...args: unknown[]) => {
  if (engine.backendName === 'wasm') throw new Error('injected fault');
  return runKernel(...args);
};
