import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DatasetError, messageOf } from './errors.js';

export interface FileBytes {
  bytes: Uint8Array;
  /** Whether the file was gzipped, so that size errors can say the sizes are after decompression. */
  gzipped: boolean;
}

/**
 * Reads a whole file, gunzipping it when it starts with the gzip magic 0x1f 0x8b. The contents
 * decide, not the name: downloads are often renamed, or decompressed and left with `.gz`.
 */
export function readMaybeGzipped(file: string): FileBytes {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new DatasetError(file, describeReadFailure(error));
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return { bytes: gunzipSync(raw), gzipped: true };
    } catch (error) {
      throw new DatasetError(file, `starts like a gzip file but cannot be decompressed (${messageOf(error)})`);
    }
  }
  return { bytes: raw, gzipped: false };
}

function describeReadFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder, expected a file';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${messageOf(error)})`;
}
