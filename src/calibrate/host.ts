/**
 * The networks `procnas calibrate --host` measures on this machine: a fixed, seeded dozen that
 * spans what searches produce — NAS-Bench-201 cells at 32x32 (many small layers: the per-layer
 * overhead shows) and MobileNetV2-space networks at 224x224 (large activations: the memory
 * shows), from a few to a few hundred million MACs.
 */
import { createRng } from '../data/index.js';
import { MobileSpace, Nb201Space, builtinArchitecture } from '../space/index.js';
import type { Architecture } from '../space/index.js';

export function hostNetworks(): Array<{ name: string; architecture: Architecture }> {
  const random = createRng(2024);
  const nb201 = new Nb201Space();
  const mobile = new MobileSpace(builtinArchitecture('mobilenet_v2') as Architecture);
  const cells = Array.from({ length: 6 }, () => nb201.sample(random));
  const nets = Array.from({ length: 6 }, () => mobile.sample(random));
  return [
    ...cells.map((architecture) => ({ name: `nb201-${nb201.digits(architecture)}`, architecture })),
    ...nets.map((architecture, i) => ({ name: `mobile-${i}`, architecture })),
  ];
}
