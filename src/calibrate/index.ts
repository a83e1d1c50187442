export * from './calibrate.js';
export * from './fit.js';
export * from './measurements.js';
export * from './host.js';
