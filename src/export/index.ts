export * from './onnx.js';
