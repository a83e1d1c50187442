export * from './classify.js';
export * from './errors.js';
export * from './onnx.js';
export * from './preprocessing.js';
export * from './quantize.js';
export * from './measure.js';
export * from './tfjs.js';
