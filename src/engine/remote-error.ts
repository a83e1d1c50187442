/**
 * Errors crossing a thread boundary as plain data, so that a job's failure keeps its class on
 * the other side (a bad architecture stays an ArchitectureError, which callers tell apart from
 * a crash). Structured cloning keeps only the built-in error classes.
 */
import { DatasetError } from '../data/errors.js';
import { ArchitectureError } from '../space/errors.js';
import type { SpaceIssue } from '../space/errors.js';
import { EngineError } from './backend.js';

export interface RemoteError {
  name: string;
  message: string;
  stack?: string;
  /** ArchitectureError's issues. */
  issues?: SpaceIssue[];
  /** DatasetError's file, folder or spec. */
  where?: string;
}

export function serializeError(error: unknown): RemoteError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const out: RemoteError = { name: error.name, message: error.message };
  if (error.stack !== undefined) out.stack = error.stack;
  if (error instanceof ArchitectureError) out.issues = error.issues;
  if (error instanceof DatasetError) out.where = error.where;
  return out;
}

const BUILDERS: Record<string, (e: RemoteError) => Error> = {
  ArchitectureError: (e) => new ArchitectureError(e.issues ?? []),
  DatasetError: (e) => new DatasetError(e.where ?? '', ''),
  EngineError: (e) => new EngineError(e.message),
  Error: (e) => new Error(e.message),
  RangeError: (e) => new RangeError(e.message),
  TypeError: (e) => new TypeError(e.message),
};

/** The error again, of its class where that is known, else a plain Error whose message names it. */
export function rebuildError(e: RemoteError): Error {
  const build = Object.hasOwn(BUILDERS, e.name) ? BUILDERS[e.name] : undefined;
  const error = build ? build(e) : new Error(`${e.name}: ${e.message}`);
  if (build) error.message = e.message;
  if (e.stack !== undefined) error.stack = e.stack;
  return error;
}
