import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from './errors.js';

/** Fails with a clear message unless `dir` is an existing folder. */
export function requireFolder(dir: string): void {
  if (!existsSync(dir)) throw new DatasetError(dir, 'folder not found');
  if (!statSync(dir).isDirectory()) throw new DatasetError(dir, 'is a file, expected a folder');
}

/** The path of `name` or `name.gz` in `dir`, whichever exists; an error naming both otherwise. */
export function findPlainOrGzipped(dir: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  throw new DatasetError(join(dir, name), `missing: neither ${name} nor ${name}.gz is in the folder`);
}
