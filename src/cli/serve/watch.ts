/**
 * Following runs as their searches write them: a run's signature (the sizes and times of its
 * store, the store's write-ahead log and its result files, and whether a process still writes
 * it) is looked at while a page listens; when it changes, the listening pages get a server-sent
 * event and fetch their view again. What is made of a run's files (the report loaded from its
 * store, the view of it) is made once per signature, however many pages ask.
 */
import { statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { STORE_FILE } from '../../experiment/folder.js';
import { runStateOf } from '../../experiment/load.js';
import type { Catalogue, Run } from './catalogue.js';

const WATCHED = [STORE_FILE, `${STORE_FILE}-wal`, 'summary.json', 'final.json'];
/** A comment line now and then keeps proxies and browsers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

function signatureOf(dir: string): string {
  const files = WATCHED.map((name) => {
    try {
      const s = statSync(join(dir, name));
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return '-';
    }
  });
  return `${files.join('|')}|${runStateOf(dir).state}`;
}

interface Listener {
  run: number | 'all';
  res: ServerResponse;
}

export class Watcher {
  private readonly made = new Map<string, { signature: string; value: unknown }>();
  private readonly listeners = new Set<Listener>();
  private signatures = new Map<number, string>();
  private poll: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly pollMs: number,
  ) {}

  /**
   * Something made of the run's files (its loaded report, a view of it), as the files are now:
   * made again only when they changed. `what` names it among the run's.
   */
  cached<T>(run: Run, what: string, make: () => T): T {
    const signature = signatureOf(run.dir);
    const key = `${run.id} ${what}`;
    const kept = this.made.get(key);
    if (kept && kept.signature === signature) return kept.value as T;
    const value = make();
    this.made.set(key, { signature, value });
    return value;
  }

  /** Streams change events of one run (or of any run, for the list) to `res` until it closes. */
  listen(run: number | 'all', res: ServerResponse): void {
    const listener = { run, res };
    this.listeners.add(listener);
    res.write('retry: 2000\n\n');
    res.on('close', () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    });
    if (!this.poll) {
      this.signatures = this.current();
      this.poll = setInterval(() => this.look(), this.pollMs);
      this.heartbeat = setInterval(() => this.listeners.forEach((l) => l.res.write(': still here\n\n')), HEARTBEAT_MS);
    }
  }

  close(): void {
    this.stop();
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
  }

  private stop(): void {
    clearInterval(this.poll);
    clearInterval(this.heartbeat);
    this.poll = undefined;
    this.heartbeat = undefined;
  }

  private current(): Map<number, string> {
    return new Map(this.catalogue.runs().map((r) => [r.id, signatureOf(r.dir)]));
  }

  private look(): void {
    const now = this.current();
    const changed = [...now].filter(([id, s]) => this.signatures.get(id) !== s).map(([id]) => id);
    const listChanged = changed.length > 0 || now.size !== this.signatures.size;
    this.signatures = now;
    for (const l of this.listeners) {
      if (l.run === 'all' ? listChanged : changed.includes(l.run)) l.res.write(`event: change\ndata: ${JSON.stringify({ run: l.run })}\n\n`);
    }
  }
}
