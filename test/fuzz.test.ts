/**
 * The fuzz suite (issue 14) at a fixed seed: a few hundred generated inputs over every input
 * surface, each accepted with sane figures or refused in one line that names where; never a bug.
 * `npm run fuzz` runs thousands and prints a table (scripts/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { judge, surfaces, workspace } from './fuzz-surfaces.js';
import type { Verdict, Workspace } from './fuzz-surfaces.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const SEED = 20261201;
/** Cases per surface: a few hundred in all, about 15 s; `npm run fuzz` runs thousands. */
const RUNS: Record<string, number> = { 'architecture files': 300, 'NAS-Bench-201 tables': 30 };

/** A finished table search's store, for the store surface to damage copies of. */
function finishedStore(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'procnas-fuzz-run-')), 'run');
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'search', '--initial', DENSE, '--table', TABLE, '--max-evals', '6', '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return join(out, 'experiment.sqlite');
}

describe('fuzz: every input surface at a fixed seed, accepted with sane figures or refused in one line naming where', () => {
  const ws: Workspace = workspace(finishedStore(), TABLE);
  after(() => ws.close());
  for (const surface of surfaces(ws)) {
    it(surface.name, async () => {
      const seen: Record<Verdict['outcome'], number> = { accepted: 0, refused: 0, bug: 0 };
      const property = fc.asyncProperty(surface.arbitrary, async (input) => {
        const verdict = await judge(surface, input);
        seen[verdict.outcome]++;
        if (verdict.outcome === 'bug') throw new Error(`${surface.name}: ${verdict.detail}`);
      });
      const result = await fc.check(property, { seed: SEED, numRuns: RUNS[surface.name] ?? 200 });
      assert.equal(result.failed, false, `${surface.name}: ${fc.defaultReportMessage(result) ?? ''}`);
      // Both outcomes occur: a generator that only makes bad input (or only good) tests half a surface.
      assert.ok(seen.refused > 0, `${surface.name}: some input refused (${JSON.stringify(seen)})`);
      assert.ok(seen.accepted > 0, `${surface.name}: some input accepted (${JSON.stringify(seen)})`);
    });
  }
});
