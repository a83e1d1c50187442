export * from './architecture.js';
export * from './errors.js';
export * from './graph.js';
export * from './lower.js';
export * from './networks.js';
export * from './notation.js';
export type { GraphSpec } from './custom.js';
export * from './resolve.js';
export * from './search-space.js';
