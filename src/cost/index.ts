export * from './model.js';
export type { Mapping, OperandTraffic, Pass, Tile } from './mapping.js';
