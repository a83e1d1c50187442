export * from './model.js';
export type { Traffic, WindowGeometry } from './tiling.js';
