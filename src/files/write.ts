/**
 * Writing results (best.json, ONNX, TF.js, reports, profiles, CSVs): into a folder made one level
 * at a time, through a temporary file renamed into place, each failure an OutputError that names
 * the path and says why in words (disk full, permission denied, a file where a folder should be).
 *
 * Why not `mkdirSync(dir, { recursive: true })`: under /proc it never returns (the kernel answers
 * ENOENT for the child and EEXIST for the parent, and Node's loop retries forever).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A result cannot be written where the user asked: bad input (status 2), never a bug. */
export class OutputError extends Error {
  /** @param why what went wrong, without the path (for callers that name the file their way) */
  constructor(message: string, readonly why: string = message) {
    super(message);
    this.name = 'OutputError';
  }
}

const WHY: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'a part of the path does not exist',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'something else already has that name',
};

/** Words for a file-system error, e.g. "the disk is full (ENOSPC)". */
export function writeErrorMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && WHY[code] ? `${WHY[code]} (${code})` : (error as Error).message;
}

/** Makes folder `dir` and any missing parents, one level at a time; an OutputError on failure. */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    let stat;
    try {
      stat = statSync(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(`${dir}: cannot make the folder: ${at}: ${writeErrorMessage(error)}`);
      const parent = dirname(at);
      if (parent === at) throw new OutputError(`${dir}: cannot make the folder: ${writeErrorMessage(error)}`);
      missing.push(at);
      at = parent;
      continue;
    }
    if (!stat.isDirectory()) throw new OutputError(`${dir}: cannot make the folder: ${at} is a file, not a folder`);
    break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Another process may have made it meanwhile; that is fine if it is a folder.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(folder).isDirectory()) continue;
      throw new OutputError(`${dir}: cannot make the folder: ${folder}: ${writeErrorMessage(error)}`);
    }
  }
}

/**
 * Writes `file` whole or not at all: the bytes go to a temporary file beside it, are flushed,
 * then renamed over it. A failure (disk full, no permission) removes the temporary file and
 * leaves any earlier `file` as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const temporary = join(dirname(file), `.${process.pid}.${Date.now()}.tmp-${file.split('/').pop() ?? 'file'}`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'wx');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, file);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The write's error is the one to report.
      }
    }
    rmSync(temporary, { force: true });
    const why = writeErrorMessage(error);
    throw new OutputError(`${file}: cannot write: ${why}`, why);
  }
}
