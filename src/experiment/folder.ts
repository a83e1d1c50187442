/**
 * A run's folder: where a search may start, who may write it, and its store opened as the run
 * needs it. A new search starts only in a new or empty folder (or one whose store holds no trial,
 * left by a search refused before its first); a resume only where a complete store is; one
 * process at a time writes a folder (a lock file naming its pid); a report only reads.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder } from '../files/index.js';
import { ConfigError } from './config.js';
import { ExperimentStore, StoreError } from './store.js';

export const STORE_FILE = 'experiment.sqlite';
const LOCK_FILE = '.procnas.lock';
/** A lock without a pid younger than this is one being made, not one left by a crash. */
const FRESH_LOCK_MS = 5000;
/** SQLite's companions of the store in WAL mode. */
const STORE_FILES = new Set([STORE_FILE, `${STORE_FILE}-wal`, `${STORE_FILE}-shm`, `${STORE_FILE}-journal`]);

export interface RunFolder {
  store: ExperimentStore;
  /** Closes the store and gives the folder up to other processes. */
  close(): void;
}

/** Opens folder `out` for a new search (`resume` false) or to continue the one in it. */
export function openRunFolder(out: string, resume: boolean): RunFolder {
  if (resume) {
    let entries: string[];
    try {
      entries = readdirSync(out);
    } catch {
      throw new StoreError(`${out}: no such folder: nothing to resume`);
    }
    if (!entries.includes(STORE_FILE)) throw new StoreError(`${out}: no experiment to resume (no ${STORE_FILE} in it)`);
  }
  const existed = existsSync(out);
  if (!resume) makeFolder(out);
  const release = lock(out);
  try {
    const file = join(out, STORE_FILE);
    if (!resume) clearForNewSearch(out, file);
    const store = new ExperimentStore(file, resume ? 'resume' : 'write');
    return {
      store,
      close: () => {
        // A new search refused before its first trial (a bad table, a bad dataset) leaves nothing behind.
        const empty = !resume && store.holdsNothing();
        store.close();
        if (empty) {
          for (const name of STORE_FILES) rmSync(join(out, name), { force: true });
        }
        release();
        if (empty && !existed && readdirSync(out).length === 0) rmSync(out, { recursive: true, force: true });
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * A new search's folder must hold nothing of value: nothing at all, or only a store without a
 * trial, or still empty (removed, so that the new search does not take its stored profile or
 * initial).
 */
function clearForNewSearch(out: string, file: string): void {
  const entries = readdirSync(out).filter((name) => name !== LOCK_FILE);
  if (entries.length === 0) return;
  const others = entries.filter((name) => !STORE_FILES.has(name));
  // A store of 0 bytes is one a killed search had created and not yet written: it holds nothing.
  if (entries.includes(STORE_FILE) && statSync(file).size > 0) {
    let trials: number;
    let nothing: boolean;
    try {
      const store = new ExperimentStore(file, 'read');
      trials = store.count();
      nothing = store.holdsNothing();
      store.close();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      throw new ConfigError(`${out} holds a damaged experiment store (${error.message.replace(`${file}: `, '')}); choose another --out, or remove the folder`);
    }
    if (!nothing) throw new ConfigError(`${out} already holds an experiment (${trials} trials): resume it with --resume ${out}, or choose another --out`);
  }
  if (others.length > 0) {
    const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? `, and ${others.length - 3} more` : '');
    throw new ConfigError(`${out} is not empty (it holds ${shown}): a new search starts in a new or empty folder; choose another --out`);
  }
  for (const name of STORE_FILES) rmSync(join(out, name), { force: true });
}

/** Takes the folder's lock, or says which process holds it; returns the release. */
function lock(out: string): () => void {
  const file = join(out, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`${out}: cannot take the folder's lock ${LOCK_FILE}: ${(error as Error).message}`);
    }
    let holder: number;
    let ageMs: number;
    try {
      holder = Number(readFileSync(file, 'utf8').trim());
      ageMs = Date.now() - statSync(file).mtimeMs;
    } catch {
      // Released meanwhile: try again.
      continue;
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new StoreError(`${out}: another procnas (pid ${holder}) is running a search in this folder; wait for it to stop, or stop it`);
    }
    // No pid yet: another process has just made the lock and not yet written it.
    if (!(holder > 0) && ageMs < FRESH_LOCK_MS) {
      throw new StoreError(`${out}: another procnas is starting a search in this folder; wait for it to stop, or stop it`);
    }
    // Left by a process that died (kill -9, a crash): take it over.
    rmSync(file, { force: true });
  }
  throw new StoreError(`${out}: cannot take the folder's lock ${LOCK_FILE}: another process keeps taking it`);
}

/** The pid of the live process writing folder `out` (a search or a resume), if one is. */
export function writerOf(out: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(join(out, LOCK_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(holder) && holder > 0 && alive(holder) ? holder : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
