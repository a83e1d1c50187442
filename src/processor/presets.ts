/**
 * Processor presets. Every number has its source beside it; "assumed" marks a modelling choice
 * where no public figure fits, so users know which numbers to replace with their own. The DRAM
 * of the first three is a device of dram-devices.ts, whose sources come with it.
 */
import { parseProcessor } from './profile.js';
import type { Processor, ProfileData } from './profile.js';

const HOROWITZ = 'Horowitz, ISSCC 2014 (45 nm)';

export const PRESETS: Record<string, ProfileData> = {
  'mobile-npu': {
    name: 'mobile-npu',
    description: 'Mobile SoC NPU, int8, 1 MiB on-chip SRAM, LPDDR4X-4266 x32',
    dtype: 'int8',
    sram: '1MiB',
    doubleBuffer: true,
    dram: { device: 'lpddr4x-4266-x32', latency: '100ns' },
    training: { dtype: 'fp16' },
    compute: {
      peak: '2TMAC/s',
      macEnergy: '0.23pJ',
      utilisation: { conv: 0.8, pointwise: 0.8, depthwise: 0.25, dense: 0.1, elementwise: 0.03 },
    },
    sramEnergy: '1.25pJ/B',
    fusion: 'greedy',
    sources: {
      sram: 'Arm Ethos-N77 product brief: 1-4 MB internal SRAM; the smallest configuration',
      doubleBuffer: "assumed: an NPU's DMA fetches the next tile while the MAC array works on this one",
      'dram.latency': 'assumed: typical loaded LPDDR4 read latency seen by an SoC master',
      training: 'assumed: an int8 NPU that trains at all does so in fp16',
      'compute.peak': 'Arm Ethos-N77: 4 TOP/s = 2 T MAC/s',
      'compute.macEnergy': `8-bit multiply 0.2 pJ + 8-bit add 0.03 pJ, ${HOROWITZ}`,
      'compute.utilisation': 'assumed: depthwise and batch-1 dense leave most of a MAC array idle',
      sramEnergy: `32-bit read of an 8 KB SRAM 5 pJ, ${HOROWITZ} (a lower bound for 1 MiB)`,
    },
  },
  'edge-cpu': {
    name: 'edge-cpu',
    description: 'Quad Cortex-A72 at 1.5 GHz (Raspberry Pi 4 class), fp32, 1 MiB L2, LPDDR4-3200 x32',
    dtype: 'fp32',
    sram: '1MiB',
    doubleBuffer: true,
    dram: { device: 'lpddr4-3200-x32', latency: '120ns', burst: '64B' },
    compute: {
      peak: '48GMAC/s',
      macEnergy: '4.6pJ',
      utilisation: { conv: 0.5, pointwise: 0.6, depthwise: 0.15, dense: 0.2, elementwise: 0.05 },
    },
    sramEnergy: '1.25pJ/B',
    fusion: 'composite',
    sources: {
      sram: 'BCM2711: 1 MiB L2 shared by the four Cortex-A72 cores',
      doubleBuffer: 'assumed: out-of-order cores and hardware prefetchers overlap loads with arithmetic',
      'dram.latency': 'assumed: typical DRAM load-to-use latency of an Arm SoC',
      'dram.burst': 'Cortex-A72 cache line, 64 B: the cores move whole lines',
      training: 'fp32, as it infers (NEON)',
      'compute.peak': '4 cores x 1.5 GHz x 8 fp32 MAC/cycle (two 128-bit NEON FMA pipes)',
      'compute.macEnergy': `fp32 multiply 3.7 pJ + fp32 add 0.9 pJ, ${HOROWITZ}`,
      'compute.utilisation': 'assumed: NEON GEMM-based conv reaches about half of peak, depthwise far less',
      sramEnergy: `32-bit read of an 8 KB SRAM 5 pJ, ${HOROWITZ}`,
    },
  },
  microcontroller: {
    name: 'microcontroller',
    description: 'Cortex-M7 at 480 MHz (STM32H7 class), int8, 512 KiB SRAM, external 32-bit SDR SDRAM at 100 MHz',
    dtype: 'int8',
    sram: '512KiB',
    doubleBuffer: false,
    dram: { device: 'sdr-100-x32', latency: '100ns' },
    compute: {
      peak: '960MMAC/s',
      macEnergy: '0.23pJ',
      utilisation: { conv: 0.5, pointwise: 0.6, depthwise: 0.4, dense: 0.5, elementwise: 0.25 },
    },
    sramEnergy: '1.25pJ/B',
    fusion: 'composite',
    sources: {
      sram: 'STM32H743: 512 KB AXI SRAM',
      doubleBuffer: 'assumed: the core stalls on SDRAM reads through its cache; CMSIS-NN runs no DMA',
      training: 'assumed: fp32 on the single-precision FPU, at the int8 rate scaled by bytes',
      'dram.latency': 'assumed: row activate + CAS at 100 MHz',
      'compute.peak': '480 MHz x 2 MAC/cycle (SMLAD dual 16-bit MAC, as CMSIS-NN uses it)',
      'compute.macEnergy': `8-bit multiply + add, ${HOROWITZ} (arithmetic only, no core overhead)`,
      'compute.utilisation': 'assumed',
      sramEnergy: `32-bit read of an 8 KB SRAM 5 pJ, ${HOROWITZ}`,
    },
  },
  stm32f746: {
    name: 'stm32f746',
    description: 'STM32F746 (MCUNet\'s device): Cortex-M7 at 216 MHz, int8, 320 KiB SRAM, 1 MiB flash read in place',
    dtype: 'int8',
    sram: '320KiB',
    weightSram: '4KiB',
    doubleBuffer: false,
    dram: { device: 'sdr-100-x32', latency: '100ns' },
    flash: { size: '1MiB', bandwidth: '864MB/s', energy: '10pJ/B', line: '32B', latency: 0, executeInPlace: true },
    compute: {
      peak: '432MMAC/s',
      macEnergy: '0.23pJ',
      utilisation: { conv: 0.5, pointwise: 0.6, depthwise: 0.4, dense: 0.5, elementwise: 0.25 },
    },
    sramEnergy: '1.25pJ/B',
    fusion: 'depth-first',
    sources: {
      sram: 'STM32F746 datasheet (DS10916): 320 KB SRAM including 64 KB DTCM; MCUNet (Lin et al., NeurIPS 2020) deploys on it',
      weightSram: "STM32F746 datasheet: 4 KB L1 data cache; weights read from flash stay in it between uses, so a weight tile must fit there",
      doubleBuffer: 'assumed: the core stalls on flash and SDRAM reads through its cache; CMSIS-NN and TinyEngine run no DMA',
      'dram.latency': 'assumed: row activate + CAS at 100 MHz',
      dram: 'STM32F746 datasheet: the FMC drives SDRAM of up to 32 data bits; ST rates it for a system clock of at most 200 MHz (STM32CubeF7 demonstration readme), the FMC clocks it at half: 100 MHz',
      'flash.size': 'STM32F746 datasheet: 1 MB flash',
      'flash.bandwidth':
        'one 32 B line per flash access of 8 cycles at 216 MHz (RM0385: 7 wait states above 210 MHz at 2.7-3.6 V); assumed: an access returns a whole cache line',
      'flash.energy': 'assumed: about 1.25 pJ/bit, between an 8 KB SRAM read and a DRAM access (Horowitz, ISSCC 2014); no published figure for this flash',
      'flash.line': 'one Cortex-M7 cache line (32 B)',
      'flash.latency': 'the wait states are in the bandwidth',
      'flash.executeInPlace': 'TinyEngine and TF Lite Micro read weights from flash where they lie (MCUNet)',
      training: 'assumed: fp32 on the single-precision FPU, at the int8 rate scaled by bytes',
      'compute.peak': '216 MHz x 2 MAC/cycle (SMLAD dual 16-bit MAC, as CMSIS-NN uses it); MCUNet runs the core at 216 MHz',
      'compute.macEnergy': `8-bit multiply + add, ${HOROWITZ} (arithmetic only, no core overhead)`,
      'compute.utilisation': 'assumed, as microcontroller',
      sramEnergy: `32-bit read of an 8 KB SRAM 5 pJ, ${HOROWITZ}`,
      fusion: 'TinyEngine keeps every activation in SRAM; depth-first stacks are how the cost model keeps tensors between ops on chip',
    },
  },
  eyeriss: {
    name: 'eyeriss',
    description: 'Eyeriss-like accelerator: 168 PEs at 200 MHz, 16-bit, 108 KB global buffer, 64-bit link',
    dtype: 'int16',
    accumulator: 'int16',
    sram: '108KiB',
    weightSram: '75264B',
    doubleBuffer: false,
    dram: { device: 'a 64-bit link to DRAM', bandwidth: '720MB/s', energy: '160pJ/B', latency: '100ns', burst: '8B' },
    compute: {
      peak: '33.6GMAC/s',
      macEnergy: '1.6pJ',
      utilisation: { conv: 0.8, pointwise: 0.5, depthwise: 0.2, dense: 0.3, elementwise: 0.05 },
    },
    sramEnergy: '4.8pJ/B',
    fusion: 'none',
    sources: {
      sram: 'Eyeriss, JSSC 2017: 108 KB global buffer',
      accumulator: 'Eyeriss, JSSC 2017: 16-bit fixed point throughout; each PE keeps partial sums in a 24 x 16-bit scratch pad',
      weightSram:
        "Eyeriss, JSSC 2017: a 224 x 16-bit filter scratch pad in each of the 168 PEs (75,264 B); weights bypass the global buffer, as in Timeloop's eyeriss_like design ('global buffer for inputs & outputs')",
      doubleBuffer: 'assumed: the global buffer holds one processing pass at a time',
      training: 'assumed: Eyeriss does not train; fp32 at the 16-bit rate scaled by bytes',
      'dram.bandwidth': 'Eyeriss: 64-bit off-chip link at 90 MHz link clock',
      'dram.energy': `32-bit DRAM access 640 pJ, ${HOROWITZ}; rows and standby not modelled: the DRAM of the Eyeriss test system is not published`,
      'dram.latency': 'assumed',
      'dram.burst': 'one 64-bit link transfer',
      'compute.peak': 'Eyeriss: 168 PEs, one 16-bit MAC each per cycle, 200 MHz core clock',
      'compute.macEnergy': "Eyeriss ISCA'16: DRAM access ~200x a MAC (320 pJ per 16-bit access / 200)",
      'compute.utilisation': 'assumed',
      sramEnergy: "Eyeriss ISCA'16: global buffer access ~6x a MAC",
      fusion: 'Eyeriss processes one layer at a time',
    },
  },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

export function presetProcessor(name: string): Processor | undefined {
  const data = PRESETS[name];
  return data ? parseProcessor(data, `preset ${name}`) : undefined;
}
