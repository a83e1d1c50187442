/**
 * Identity for the WASM backend without the copy. TF.js clones every tensor it saves for the
 * backward pass, and the stock WASM kernel copies the data each time (about 5% of a training
 * step); tensors are immutable, so sharing the data with a reference count is enough, which is
 * what TF.js's own cpu backend does.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf.js';

const identity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const IDENTITY_KERNEL: tf.KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identity };
