/** The one place the engine imports TensorFlow.js from. */
export * as tf from '@tensorflow/tfjs';
