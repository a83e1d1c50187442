export * from './backend.js';
export * from './job.js';
export * from './network.js';
export * from './optimizer.js';
export * from './pool.js';
export * from './train.js';
export { tf } from './tf.js';
export * from './variables.js';
