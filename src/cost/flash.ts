/**
 * Flash read as a memory device, so that the DRAM device model's arithmetic (dram.ts) prices
 * it: reads of whole lines at the flash's bandwidth and energy, a latency per transfer, and no
 * rows, banks, refresh or standby power (a NOR array is random-access and holds its data unpowered).
 */
import type { DramDevice, FlashMemory, Processor } from '../processor/index.js';

const devices = new WeakMap<FlashMemory, DramDevice>();

export function flashDevice(f: FlashMemory): DramDevice {
  let d = devices.get(f);
  if (!d) {
    d = {
      device: 'flash',
      bandwidth: f.bandwidth,
      burstBytes: f.lineBytes,
      pageBytes: 0,
      banks: 1,
      rowCycle: 0,
      refreshTime: 0,
      refreshInterval: 0,
      refreshFraction: 0,
      latency: f.latency,
      readEnergyPerByte: f.readEnergyPerByte,
      // Never written while a network runs; the same figure keeps the device well formed.
      writeEnergyPerByte: f.readEnergyPerByte,
      activateEnergy: 0,
      backgroundPower: 0,
    };
    devices.set(f, d);
  }
  return d;
}

/**
 * Whether a mode reads weights from flash: inference on a processor whose flash executes in
 * place. A training step writes its weights, so they live in DRAM.
 */
export function weightsInFlash(p: Processor, training: boolean): boolean {
  return !training && p.flash !== undefined && p.flash.executeInPlace;
}
