/**
 * Prediction error looked up in a benchmark table instead of trained: NAS-Bench-201's test
 * accuracies (a JSON object keyed by architecture string, as in the file the user points at),
 * for comparing strategies in seconds.
 */
import { readFileSync } from 'node:fs';
import type { Architecture, Nb201Space } from '../../space/index.js';
import { printNb201String } from '../../space/index.js';
import type { Evaluator } from '../types.js';

type Nb201Dataset = 'cifar10' | 'cifar100' | 'ImageNet16-120';

export class Nb201TableEvaluator implements Evaluator {
  private readonly errors = new Map<string, number>();

  constructor(
    private readonly space: Nb201Space,
    file: string,
    dataset: Nb201Dataset = 'cifar10',
  ) {
    let table: Record<string, Record<string, number>>;
    try {
      table = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, number>>;
    } catch (error) {
      throw new Error(`${file}: cannot read the NAS-Bench-201 table: ${(error as Error).message}`);
    }
    for (const [text, record] of Object.entries(table)) {
      const accuracy = record[dataset];
      if (typeof accuracy !== 'number') throw new Error(`${file}: "${text}" has no ${dataset} accuracy`);
      this.errors.set(text, 1 - accuracy / 100);
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
