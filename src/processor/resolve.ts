import { existsSync } from 'node:fs';
import { presetNames, presetProcessor } from './presets.js';
import { ProcessorError, loadProcessorFile } from './profile.js';
import type { Processor } from './profile.js';

/** A processor from a preset name or a JSON/YAML profile file. */
export function resolveProcessor(ref: string): Processor {
  const preset = presetProcessor(ref);
  if (preset) return preset;
  if (existsSync(ref)) return loadProcessorFile(ref);
  throw new ProcessorError(`${ref}: no such file, and not a processor preset (${presetNames().join(', ')})`);
}
