/** The options of post-training quantisation (quantize.ts), apart from it: configurations read them without loading onnxruntime. */
export interface QuantizeOptions {
  /** How activation ranges are taken: the whole range seen, or percentiles of it. */
  calibration: 'minmax' | 'percentile';
  /** percentile: the range from the (100 - p)th to the pth percentile of the values seen. */
  percentile: number;
}

export const DEFAULT_QUANTIZE: QuantizeOptions = { calibration: 'minmax', percentile: 99.99 };
