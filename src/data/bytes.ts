import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DatasetError, messageOf } from './errors.js';

/** CIFAR-100's training file is 150 MB; no image dataset file procnas trains on comes near 2 GiB. */
const MAX_DECOMPRESSED_BYTES = 2 ** 31;

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
    // A device or a FIFO (a symlink to /dev/zero) would be read forever.
    if (!statSync(file).isFile()) throw new DatasetError(file, 'is not a regular file');
    raw = readFileSync(file);
  } catch (error) {
    if (error instanceof DatasetError) throw error;
    throw new DatasetError(file, describeReadFailure(error));
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // Bounded: a small gzip bomb must not take the machine's memory.
      return { bytes: gunzipSync(raw, { maxOutputLength: MAX_DECOMPRESSED_BYTES }), gzipped: true };
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
