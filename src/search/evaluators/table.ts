/**
 * Prediction error looked up in a benchmark table instead of trained: NAS-Bench-201's test
 * accuracies (a JSON object keyed by architecture string, as in the file the user points at),
 * for comparing strategies in seconds.
 */
import { readErrorMessage, readTextFile } from '../../files/index.js';
import type { Architecture, Nb201Space } from '../../space/index.js';
import { NB201_OPS, printNb201String } from '../../space/index.js';
import type { Evaluator } from '../types.js';

type Nb201Dataset = 'cifar10' | 'cifar100' | 'ImageNet16-120';

/** The table itself is bad input (missing, not the table's shape, incomplete): exit 2. */
export class TableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableError';
  }
}

/** NAS-Bench-201's file is 3 MB; ten times that is still a table, more is something else. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

export class Nb201TableEvaluator implements Evaluator {
  private readonly errors = new Map<string, number>();

  constructor(
    private readonly space: Nb201Space,
    file: string,
    dataset: Nb201Dataset = 'cifar10',
  ) {
    let table: unknown;
    try {
      table = JSON.parse(readTextFile(file, MAX_TABLE_BYTES));
    } catch (error) {
      const why = error instanceof SyntaxError ? `not valid JSON: ${error.message}` : readErrorMessage(error);
      throw new TableError(`${file}: cannot read the NAS-Bench-201 table: ${why}`);
    }
    const shape = `a JSON object keyed by architecture string, e.g. {"${printNb201String('333333')}": {"${dataset}": 94.1}}`;
    if (table === null || typeof table !== 'object' || Array.isArray(table)) {
      throw new TableError(`${file}: the NAS-Bench-201 table is ${shape}, not ${Array.isArray(table) ? 'a list' : String(table)}`);
    }
    for (const [text, record] of Object.entries(table)) {
      const accuracy = (record as Record<string, unknown> | null)?.[dataset];
      if (typeof accuracy !== 'number' || !(accuracy >= 0 && accuracy <= 100)) {
        throw new TableError(`${file}: "${text}": ${dataset} accuracy must be a percentage from 0 to 100, got ${JSON.stringify(accuracy ?? record)} (the table is ${shape})`);
      }
      this.errors.set(text, 1 - accuracy / 100);
    }
    // Every cell of the space, so that no trial can fail for want of its entry.
    const cells = NB201_OPS.length ** 6;
    const missing: string[] = [];
    for (let i = 0; i < cells; i++) {
      const digits = Array.from({ length: 6 }, (_, e) => Math.floor(i / NB201_OPS.length ** (5 - e)) % NB201_OPS.length).join('');
      if (!this.errors.has(printNb201String(digits))) missing.push(printNb201String(digits));
    }
    if (missing.length > 0) {
      throw new TableError(`${file}: the NAS-Bench-201 table lacks ${missing.length} of the ${cells} cells, e.g. "${missing[0]}" (it holds ${this.errors.size} entries)`);
    }
  }

  get size(): number {
    return this.errors.size;
  }

  async evaluate(architecture: Architecture): Promise<{ error: number }> {
    return { error: this.errorOf(architecture) };
  }

  errorOf(architecture: Architecture): number {
    const text = printNb201String(this.space.digits(architecture));
    const error = this.errors.get(text);
    if (error === undefined) throw new Error(`no accuracy for ${text} in the table`);
    return error;
  }
}
