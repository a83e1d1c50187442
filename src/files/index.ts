/**
 * The user's files: reading them safely (read.ts), saying what is wrong in them (issues.ts), and
 * writing results so that a failure leaves the old file or none, never half of one (write.ts).
 * A leaf: depends on nothing of procnas.
 */
export * from './issues.js';
export * from './read.js';
export * from './write.js';
