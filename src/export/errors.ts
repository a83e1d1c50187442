/** Weights as exporters take them, and their error. */
export interface WeightTensor {
  shape: number[];
  values: Float32Array;
}

/** Weights by `<layer name>.<role>`, as Network.weights() gives them. */
export type Weights = Record<string, WeightTensor>;

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}
