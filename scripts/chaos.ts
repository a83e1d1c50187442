/**
 * `npm run chaos`: SIGKILL a table search and a short trained search at 20 moments each, spread
 * from before the store exists to after the last trial; resume each and compare with the run
 * that was not killed (test/chaos.ts). Prints a line per kill and a summary; exits 1 if any kill
 * lost a trial, ran one twice, or ended elsewhere.
 *
 *   node --import tsx scripts/chaos.ts [--kills 20] [--seed 14] [--kinds table,trained]
 */
import { parseArgs } from 'node:util';
import { baseline, killAndResume, killMoments, scratchRoot } from '../test/chaos.js';
import type { ChaosCase, SearchKind } from '../test/chaos.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, seed: { type: 'string', default: '14' }, kinds: { type: 'string', default: 'table,trained' } } });
const cases: ChaosCase[] = [];
for (const kind of values.kinds.split(',') as SearchKind[]) {
  const root = scratchRoot();
  const whole = baseline(kind, root);
  console.log(`${kind} search: ${whole.trials.length} trials in ${(whole.ms / 1000).toFixed(1)} s uninterrupted (the first after ${(whole.startupMs / 1000).toFixed(1)} s); killing it ${values.kills} times`);
  for (const [i, at] of killMoments(Number(values.kills), whole.startupMs, whole.trials.length, Number(values.seed)).entries()) {
    const result = await killAndResume(kind, root, `cut-${i}`, at, whole);
    cases.push(result);
    const when = 'ms' in at ? `at ${at.ms} ms` : `at trial ${at.trials}`;
    console.log(`  killed ${when.padEnd(14)} (${String(result.killAtMs).padStart(6)} ms), ${String(result.storedAtKill).padStart(4)} trials stored, ${result.recovery.padEnd(13)} ${result.problems.length === 0 ? 'ok' : result.problems.join('; ')}`);
  }
}
const failed = cases.filter((c) => c.problems.length > 0);
for (const kind of new Set(cases.map((c) => c.kind))) {
  const mine = cases.filter((c) => c.kind === kind);
  const recoveries = ['resumed', 'started again', 'had finished'].map((r) => `${mine.filter((c) => c.recovery === r).length} ${r}`).join(', ');
  console.log(`${kind}: ${mine.length} kills (${recoveries}); ${mine.filter((c) => c.problems.length > 0).length} with a problem`);
}
process.exit(failed.length > 0 ? 1 : 0);
