/**
 * DRAM devices a profile can name (`dram: { device: lpddr4-3200-x32 }`) instead of writing out
 * their parameters; any field written beside the name overrides the device's. Every number has
 * its source. Energies follow the Micron TN-41-01 / DRAMPower method from datasheet currents
 * (maximum currents: upper bounds), for the whole interface (all chips of a rank or channel pair):
 *
 *   activation + precharge  V · [IDD0 · tRC − (IDD3N · tRAS + IDD2N · (tRC − tRAS))]
 *   read (write) burst      V · (IDD4R − IDD3N) · tBURST  (IDD4W), plus the I/O energy where known
 *   background              V · IDD3N (active standby while the network runs) + V · (IDD5 − IDD3N) · tRFC / tREFI
 */
import type { ProcessorData } from './profile.js';

type DramData = ProcessorData['dram'];

export interface DramDevicePreset {
  dram: DramData & { device: string };
  /** Source of each field, keyed as in a profile (`dram.bandwidth`, ...). */
  sources: Record<string, string>;
}

const DRAMPOWER_LPDDR4 = 'Micron 6Gb LPDDR4-3200 memspec (tukl-msd/DRAMPower memspecs/MICRON_6Gb_LPDDR4-3200_32bit_A.json, one x16 channel)';
const DRAMSYS_4266 = 'DRAMSys memspec JEDEC_1Gbx16_LPDDR4-4266.json (tukl-msd/DRAMSys)';
const GEM5_DDR4 = 'gem5 DDR4_2400_8x8 (src/python/gem5/components/memory/dram_interfaces/ddr4.py: Micron MT40A1G8, 8 Gbit)';
const MT48LC = 'Micron MT48LC4M32B2 128Mb x32 SDR SDRAM datasheet (the SDRAM of ST\'s STM32H750B-DK; STM32CubeH7 BSP), revision L, -6A';

export const DRAM_DEVICES: Record<string, DramDevicePreset> = {
  'lpddr4x-4266-x32': {
    dram: {
      device: 'LPDDR4X-4266, two x16 channels',
      bandwidth: '17.06GB/s',
      burst: '32B',
      page: '2KiB',
      banks: 16,
      rowCycle: '36.6ns',
      refresh: { time: '380.8ns', interval: '3.912us' },
      energy: { read: '7.01pJ/bit', write: '4.50pJ/bit', activate: '1.20nJ', background: '86.5mW' },
    },
    sources: {
      'dram.bandwidth': `4266 MT/s x 32 bit (${DRAMSYS_4266}: tCK 0.469 ns, two x16 channels)`,
      'dram.burst': `BL16 x 16 bit per channel (${DRAMSYS_4266})`,
      'dram.page': `1024 columns x 16 bit per channel (${DRAMSYS_4266})`,
      'dram.banks': `8 banks per channel, two channels (${DRAMSYS_4266})`,
      'dram.rowCycle': `tRCD 39 + tRPpb 39 clocks at 0.469 ns (${DRAMSYS_4266})`,
      'dram.refresh': `tRFCab 812 clocks, tREFI 8341 clocks (${DRAMSYS_4266})`,
      'dram.energy':
        `proxy: no LPDDR4X-4266 currents were found; LPDDR4X keeps LPDDR4's VDD1 1.8 V and VDD2 1.1 V (Kingston LPDDR4x product page), so the core energies are ${DRAMPOWER_LPDDR4}'s: ` +
        'read 1.35 nJ, write 0.99 nJ per 32 B burst, activation+precharge 1.20 nJ, active standby 37.05 mW and refresh 5.7 mW per channel, two channels; ' +
        'I/O energy and standby (1.1 V VDDQ: 0.82 nJ per read burst, 0.30 nJ per write burst, 0.8 mW) scaled to the 0.6 V VDDQ of LPDDR4X at equal current',
    },
  },
  'lpddr4-3200-x32': {
    dram: {
      device: 'LPDDR4-3200, two x16 channels',
      bandwidth: '12.8GB/s',
      burst: '32B',
      page: '2KiB',
      banks: 16,
      rowCycle: '36.25ns',
      refresh: { time: '280ns', interval: '3.904us' },
      energy: { read: '8.47pJ/bit', write: '5.03pJ/bit', activate: '1.20nJ', background: '87.2mW' },
    },
    sources: {
      'dram.bandwidth': `3200 MT/s x 32 bit (${DRAMPOWER_LPDDR4}: 1600 MHz, two channels)`,
      'dram.burst': `BL16 x 16 bit per channel (${DRAMPOWER_LPDDR4})`,
      'dram.page': `1024 columns x 16 bit per channel (${DRAMPOWER_LPDDR4})`,
      'dram.banks': `8 banks per channel, two channels (${DRAMPOWER_LPDDR4})`,
      'dram.rowCycle': `tRCD 29 + tRPpb 29 clocks at 0.625 ns (${DRAMPOWER_LPDDR4})`,
      'dram.refresh': `tRFCab 448 clocks, tREFIab 6246 clocks (${DRAMPOWER_LPDDR4})`,
      'dram.energy':
        `${DRAMPOWER_LPDDR4}, TN-41-01 method: read 1.35 nJ core + 0.82 nJ I/O per 32 B burst, write 0.99 + 0.30 nJ, ` +
        'activation+precharge 1.20 nJ (VDD1 0.14 + VDD2 1.06), background per channel 37.05 mW active standby + 0.8 mW VDDQ + 5.7 mW refresh, two channels',
    },
  },
  'ddr4-2400-x64': {
    dram: {
      device: 'DDR4-2400, one x64 rank of eight x8 chips',
      bandwidth: '19.2GB/s',
      burst: '64B',
      page: '8KiB',
      banks: 16,
      rowCycle: '28.32ns',
      refresh: { time: '350ns', interval: '7.8us' },
      energy: { read: '5.75pJ/bit', write: '5.00pJ/bit', activate: '3.44nJ', background: '562mW' },
    },
    sources: {
      'dram.bandwidth': `2400 MT/s x 64 bit (${GEM5_DDR4}: tCK 0.833 ns)`,
      'dram.burst': `BL8 x 64 bit (${GEM5_DDR4})`,
      'dram.page': `1 KiB row buffer per chip x 8 chips (${GEM5_DDR4})`,
      'dram.banks': `16 banks in 4 bank groups (${GEM5_DDR4})`,
      'dram.rowCycle': `tRCD 14.16 + tRP 14.16 ns (${GEM5_DDR4})`,
      'dram.refresh': `tRFC 350 ns, tREFI 7.8 us (${GEM5_DDR4})`,
      'dram.energy':
        `${GEM5_DDR4} currents (the same in DRAMsim3's DDR4_8Gb_x8_2400.ini), TN-41-01 method, x8 chips: ` +
        'read 1.2 V x (IDD4R 135 - IDD3N 43 mA) x 3.332 ns = 2.94 nJ per 64 B burst, write (IDD4W 123 mA) 2.56 nJ (I/O not included: not found), ' +
        'activation+precharge 3.44 nJ, background 412.8 mW active standby + 60 mW VPP + refresh 1.2 V x (IDD5 250 - 43 mA) x 350 ns / 7.8 us = 89.2 mW',
    },
  },
  'sdr-100-x32': {
    dram: {
      device: 'SDR SDRAM, 32-bit at 100 MHz (MT48LC4M32B2)',
      bandwidth: '400MB/s',
      burst: '32B',
      page: '1KiB',
      banks: 4,
      rowCycle: '40ns',
      refresh: { time: '70ns', interval: '15.625us' },
      energy: { read: '46.4pJ/bit', write: '46.4pJ/bit', activate: '14.85nJ', background: '150.2mW' },
    },
    sources: {
      'dram.bandwidth': '100 MHz SDRAM clock on the STM32H7 FMC (ST ExtMem_Boot fmc.c: "100Mhz as SDRAM clock") x 32 bit',
      'dram.burst': 'one Cortex-M7 cache line (32 B): the core fetches SDRAM through its cache',
      'dram.page': `256 columns x 32 bit (${MT48LC}: 1 Meg x 32 x 4 banks, 4096 rows)`,
      'dram.banks': MT48LC,
      'dram.rowCycle': 'tRCD 2 + tRP 2 clocks at 100 MHz (STM32CubeH7 BSP, stm32h743i_eval_sdram.c)',
      'dram.refresh': `tRFC: RowCycleDelay 7 clocks at 100 MHz (STM32CubeH7 BSP); tREFI 64 ms / 4096 rows (${MT48LC})`,
      'dram.energy':
        `${MT48LC}: 3.3 V; burst read or write (IDD4 120 - IDD3 45 mA) x 6 ns per beat x 8 beats = 11.9 nJ per 32 B (I/O not included: not found); ` +
        'activation+precharge (IDD1 120 - IDD3 45 mA) x tRC 60 ns = 14.9 nJ (an upper bound: IDD1 includes a burst); ' +
        'background IDD3 45 mA (active standby, specified at 166 MHz: an upper bound at 100 MHz) + refresh (IDD5 180 - IDD3 45 mA) x 60 ns / 15.625 us',
    },
  },
};

export function dramDeviceNames(): string[] {
  return Object.keys(DRAM_DEVICES);
}
