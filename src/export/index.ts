export * from './onnx.js';
export * from './measure.js';
