/** Parsers for command-line values; each rejects bad input with a message commander prints. */
import { InvalidArgumentError } from 'commander';
import { MAX_SIZE } from '../space/index.js';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer.');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be an integer of 0 or more.');
  return Number(value);
}

/** A TCP port to listen on; 0 takes any free one. */
export function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535.');
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('must be a number from 0 up to (not including) 1.');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of 0 or more.');
  return n;
}

/** A width, a number of classes: the same limit as in architecture files. */
export function sizeInt(value: string): number {
  const n = positiveInt(value);
  if (n > MAX_SIZE) throw new InvalidArgumentError(`must be at most ${MAX_SIZE}, as in architecture files.`);
  return n;
}

export function inputShape(value: string): { h: number; w: number; c: number } {
  const match = /^(\d+)x(\d+)x(\d+)$/.exec(value);
  if (!match || match.slice(1).some((v) => Number(v) < 1)) throw new InvalidArgumentError('write it as HxWxC, e.g. 32x32x3.');
  if (match.slice(1).some((v) => Number(v) > MAX_SIZE)) throw new InvalidArgumentError(`each of H, W and C must be at most ${MAX_SIZE}, as in architecture files.`);
  return { h: Number(match[1]), w: Number(match[2]), c: Number(match[3]) };
}

/** A duration such as `90s`, `10m`, `1.5h` or plain seconds, in seconds. */
export function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('write a duration such as 90s, 10m or 1h.');
  const scale = { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  const seconds = Number(match[1]) * scale;
  if (seconds <= 0) throw new InvalidArgumentError('must be longer than 0.');
  return seconds;
}
