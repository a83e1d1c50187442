export * from './presets.js';
export * from './profile.js';
export * from './units.js';
export * from './resolve.js';
export { DRAM_DEVICES, dramDeviceNames } from './dram-devices.js';
