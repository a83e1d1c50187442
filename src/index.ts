/**
 * procnas's library entry: the architecture model, processor profiles, the cost model and the
 * dataset readers. The ML engine (TF.js) is a separate entry, `procnas/engine`, so that scoring
 * architectures never loads it.
 */
export * from './space/index.js';
export * from './processor/index.js';
export * from './cost/index.js';
export * from './data/index.js';
