/**
 * Chaos (issue 14): searches killed with SIGKILL at moments spread over their run, from before
 * the store exists to after the last trial, then resumed: no trial lost, none run twice, the same
 * trials and best as without the kill. `npm run chaos` does 20 kills of each kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseline, killAndResume, killMoments, scratchRoot } from './chaos.js';
import type { SearchKind } from './chaos.js';

const KILLS: Record<SearchKind, number> = { table: 6, trained: 3 };

describe('chaos: SIGKILL at random moments, then --resume', () => {
  for (const kind of ['table', 'trained'] as const) {
    it(`a ${kind} search: nothing lost, nothing run twice, the same trials and best`, async () => {
      const root = scratchRoot();
      const whole = baseline(kind, root);
      assert.ok(whole.trials.length > 0, 'the uninterrupted run stored its trials');
      if (kind === 'trained') assert.ok(whole.trials.some((t) => t.inherited_from !== null), 'the trained search inherits weights');
      const cases = [];
      for (const [i, at] of killMoments(KILLS[kind], whole.startupMs, whole.trials.length, 14).entries()) {
        const result = await killAndResume(kind, root, `cut-${i}`, at, whole);
        assert.deepEqual(result.problems, [], `killed at ${result.killAtMs} ms with ${result.storedAtKill} trials stored (${result.recovery})`);
        cases.push(result);
      }
      // The kills landed both before the first trial and amid the trials.
      assert.ok(cases.some((c) => c.storedAtKill === 0) && cases.some((c) => c.storedAtKill > 0 && c.recovery === 'resumed'), JSON.stringify(cases.map((c) => c.storedAtKill)));
    });
  }
});
