/**
 * Reading the user's files (architectures, profiles, configurations, tables, measurements): only
 * regular files, never more than a set size, YAML or JSON parsed with aliases bounded and cycles
 * refused. Each part wraps the plain Error thrown here in its own error, naming the file.
 *
 * Why: `readFileSync('/dev/zero')` never returns, a 2 GB file exhausts memory before anything is
 * validated, and a YAML alias can make a structure that contains itself, which every recursive
 * walk after parsing (the schema, a merge) would follow until the stack overflows.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** Configurations, profiles and architectures are a few KB; a generated architecture a few MB. */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** The file's text; throws a plain Error whose message says what is wrong (not a file, too big). */
export function readTextFile(file: string, maxBytes = MAX_TEXT_BYTES): string {
  // stat before open: opening a FIFO for reading blocks until a writer comes.
  const named = statSync(file);
  if (named.isDirectory()) throw new Error('is a folder, not a file');
  if (!named.isFile()) throw new Error('is not a regular file');
  const fd = openSync(file, 'r');
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('is not a regular file');
    if (stat.size > maxBytes) throw new Error(`is ${stat.size} bytes, more than the ${maxBytes} bytes procnas reads`);
    // Read by the size fstat gave (plus one byte to notice a file that grew), not to the end.
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new Error(`is more than the ${maxBytes} bytes procnas reads`);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** The message of an error from reading a file, without Node's syscall decoration where it adds nothing. */
export function readErrorMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    default:
      return e.message ?? String(error);
  }
}

/** JSON when the name ends in .json, else YAML; throws a plain Error on a syntax error or a cycle. */
export function parseDataText(text: string, file: string): unknown {
  const json = file.toLowerCase().endsWith('.json');
  let data: unknown;
  try {
    // maxAliasCount bounds alias expansion (a "billion laughs" file).
    data = json ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 1000 });
  } catch (error) {
    throw new Error(`not valid ${json ? 'JSON' : 'YAML'}: ${firstLine((error as Error).message)}`);
  }
  if (containsItself(data)) throw new Error('a YAML alias refers to a node that contains it (a cycle)');
  return data;
}

/** Reads and parses a data file; a plain Error says why it cannot (no such file, not valid YAML, ...). */
export function readDataFile(file: string, maxBytes = MAX_TEXT_BYTES): unknown {
  let text: string;
  try {
    text = readTextFile(file, maxBytes);
  } catch (error) {
    throw new Error(readErrorMessage(error));
  }
  return parseDataText(text, file);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Whether a parsed value holds itself (only YAML aliases can make that); iterative, no recursion. */
function containsItself(root: unknown): boolean {
  // Depth-first with an explicit stack; a node is "open" while its children are being visited.
  const open = new Set<object>();
  const done = new Set<object>();
  const stack: Array<{ node: object; children: unknown[]; next: number }> = [];
  const push = (value: unknown): boolean => {
    if (value === null || typeof value !== 'object') return false;
    if (open.has(value)) return true;
    if (done.has(value)) return false;
    open.add(value);
    stack.push({ node: value, children: Array.isArray(value) ? value : Object.values(value), next: 0 });
    return false;
  };
  if (push(root)) return true;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (top.next < top.children.length) {
      if (push(top.children[top.next++])) return true;
    } else {
      stack.pop();
      open.delete(top.node);
      done.add(top.node);
    }
  }
  return false;
}
