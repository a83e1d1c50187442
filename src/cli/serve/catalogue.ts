/**
 * The runs a dashboard serves: the folders named on the command line, each a run (it holds a
 * store, or will: missing or empty) or a folder of runs (its subfolders that hold a store). Runs
 * are found again on every look, so a search started later shows up; each keeps the number it
 * was first given, and a URL names a run only by that number: no path ever comes from a request.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { STORE_FILE } from '../../experiment/folder.js';

export interface Run {
  id: number;
  dir: string;
  name: string;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export class Catalogue {
  private readonly ids = new Map<string, number>();

  constructor(readonly named: string[]) {}

  /** The runs as the folders hold them now, in the order they were first seen. */
  runs(): Run[] {
    const found: string[] = [];
    for (const folder of this.named) found.push(...this.runsIn(resolve(folder)));
    for (const dir of found) if (!this.ids.has(dir)) this.ids.set(dir, this.ids.size);
    return [...new Set(found)].map((dir) => ({ id: this.ids.get(dir) as number, dir, name: basename(dir) })).sort((a, b) => a.id - b.id);
  }

  run(id: number): Run | undefined {
    return this.runs().find((r) => r.id === id);
  }

  private runsIn(folder: string): string[] {
    if (!existsSync(folder) || !isFolder(folder)) return [folder];
    if (existsSync(join(folder, STORE_FILE))) return [folder];
    let entries: string[];
    try {
      entries = readdirSync(folder).sort();
    } catch {
      return [folder];
    }
    // A subfolder that is a link out of the named folder is not served: only what was named is.
    const root = realpathSync(folder);
    const runs = entries
      .map((name) => join(folder, name))
      .filter((dir) => isFolder(dir) && existsSync(join(dir, STORE_FILE)))
      .filter((dir) => realpathSync(dir).startsWith(root + sep));
    return runs.length > 0 ? runs : [folder];
  }
}
