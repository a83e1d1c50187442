/** Small datasets the tests write for themselves. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes an IDX dataset of 8x8 images: class 0 bright on top, class 1 bright at the bottom. */
export function writeHalvesIdx(dir: string): void {
  const idx = (dims: number[], data: Uint8Array): Buffer => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt8(0x08, 2);
    header.writeUInt8(dims.length, 3);
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([header, Buffer.from(data)]);
  };
  const set = (count: number, prefix: string): void => {
    const images = new Uint8Array(count * 64);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      labels[i] = i % 2;
      for (let p = 0; p < 64; p++) images[i * 64 + p] = (p < 32) === (labels[i] === 0) ? 200 + ((i * 7 + p) % 50) : (i * 13 + p) % 50;
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idx([count, 8, 8], images));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx([count], labels));
  };
  set(400, 'train');
  set(100, 't10k');
}

