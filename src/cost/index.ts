export * from './model.js';
export { estimateArchitectureCost } from './architecture.js';
export type { Mapping, OperandTraffic, Pass, Tile } from './mapping.js';
