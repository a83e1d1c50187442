import { readMaybeGzipped } from './bytes.js';
import { DatasetError } from './errors.js';

/** An IDX array: its dimensions (outermost first) and its values in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/**
 * Reads an IDX file (the MNIST format), plain or gzipped. Only unsigned-byte arrays (type 0x08)
 * are accepted: every image dataset in that format uses them, and anything else is a mistake.
 * The size must match the header exactly, so a truncated download or a wrong file is caught here.
 */
export function readIdx(file: string): IdxArray {
  const { bytes, gzipped } = readMaybeGzipped(file);
  const decompressed = gzipped ? ' after decompression' : '';
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(
      file,
      `bad magic number ${hexBytes(bytes.subarray(0, 4))}: an IDX file starts with 0x00 0x00, a type byte and a dimension count`,
    );
  }
  const type = bytes[2] as number;
  const rank = bytes[3] as number;
  if (type !== UNSIGNED_BYTE) {
    const known = TYPE_NAMES[type];
    const name = known ? ` (${known})` : '';
    throw new DatasetError(file, `unsupported IDX element type ${hex(type)}${name}: only unsigned bytes (0x08) are read`);
  }
  if (rank === 0) throw new DatasetError(file, 'the IDX header declares 0 dimensions');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DatasetError(
      file,
      `truncated header: expected at least ${headerBytes} bytes for ${rank} dimensions, got ${bytes.length}${decompressed}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const values = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + values;
  const layout = `${headerBytes}-byte header + ${dims.join('x')} values`;
  if (bytes.length < expected) {
    throw new DatasetError(file, `truncated: expected ${expected} bytes (${layout}), got ${bytes.length}${decompressed}`);
  }
  if (bytes.length > expected) {
    throw new DatasetError(
      file,
      `${bytes.length - expected} trailing bytes: expected ${expected} bytes (${layout}), got ${bytes.length}${decompressed}`,
    );
  }
  // A copy into a plain Uint8Array of its own: callers may hand `.buffer` to an engine, and a
  // Buffer from readFileSync can be a view into a shared pool.
  const data = new Uint8Array(values);
  data.set(bytes.subarray(headerBytes));
  return { dims, data };
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function hexBytes(bytes: Uint8Array): string {
  return bytes.length === 0 ? '(empty file)' : Array.from(bytes, hex).join(' ');
}
