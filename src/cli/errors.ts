/**
 * What the CLI makes of an error: bad input (status 2, one line the user can act on) or a bug in
 * procnas (status 1). Only errors procnas raised itself about the user's input count as bad
 * input; a RangeError (a stack overflow, "Invalid string length", an out-of-range index) is a
 * limit procnas failed to enforce, which is a bug.
 */
import { CalibrationError } from '../calibrate/index.js';
import { DatasetError } from '../data/index.js';
import { EngineError } from '../engine/backend.js';
import { ConfigError } from '../experiment/config.js';
import { StoreError } from '../experiment/store.js';
import { ExportError } from '../export/index.js';
import { OutputError } from '../files/index.js';
import { ProcessorError } from '../processor/index.js';
import { TableError } from '../search/index.js';
import { ArchitectureError, SpaceError } from '../space/index.js';

const BAD_INPUT = [ArchitectureError, SpaceError, ProcessorError, DatasetError, ConfigError, ExportError, EngineError, CalibrationError, TableError, StoreError, OutputError];

export function isBadInput(error: unknown): error is Error {
  return BAD_INPUT.some((kind) => error instanceof kind);
}

/**
 * The lines to print for bad input. The first names the file or flag and what is wrong, on its
 * own (a log or a terminal may show only it); any further lines list more problems.
 */
export function badInputLines(error: Error): string[] {
  return `procnas: ${error.message}`.split('\n');
}
