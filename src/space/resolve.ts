import { existsSync } from 'node:fs';
import { loadArchitectureFile } from './architecture.js';
import type { Architecture } from './architecture.js';
import { ArchitectureError } from './errors.js';
import { builtinArchitecture, builtinNames } from './networks.js';

/** An architecture from a built-in name (`resnet18`, `nb201:|...|`) or a JSON/YAML file path. */
export function resolveArchitecture(ref: string): Architecture {
  const builtin = builtinArchitecture(ref);
  if (builtin) return builtin;
  if (existsSync(ref)) return loadArchitectureFile(ref);
  throw new ArchitectureError([{ path: '', message: `no such file, and not a built-in network (${builtinNames().join(', ')})` }], ref);
}
