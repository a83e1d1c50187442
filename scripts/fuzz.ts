/**
 * `npm run fuzz`: thousands of generated inputs over every input surface of procnas (see
 * test/fuzz-surfaces.ts), then the command line itself on generated arguments, with a summary
 * table: how many inputs were accepted, refused (status 2) or hit a bug, and the slowest case.
 * Exits 1 if any bug was found, printing the first input of each kind.
 *
 *   node --import tsx scripts/fuzz.ts [--runs 1000] [--cli 60] [--seed N]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { CASE_LIMIT_MS, judge, surfaces, workspace } from '../test/fuzz-surfaces.js';
import type { Outcome } from '../test/fuzz-surfaces.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, cli: { type: 'string', default: '60' }, seed: { type: 'string', default: String(Date.now() % 2 ** 31) } } });
const runs = Number(values.runs);
const seed = Number(values.seed);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

interface Row {
  surface: string;
  cases: number;
  counts: Record<Outcome, number>;
  slowestMs: number;
  bugs: string[];
}

function procnas(args: string[], timeoutMs = 60_000) {
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
}

console.log(`fuzz: seed ${seed}, ${runs} cases per surface, ${values.cli} command lines`);
const scratch = mkdtempSync(join(tmpdir(), 'procnas-fuzz-'));
const run = procnas(['search', '--initial', DENSE, '--table', TABLE, '--max-evals', '6', '--out', join(scratch, 'run'), '--json']);
if (run.status !== 0) throw new Error(`could not make the store to damage: ${run.stderr}`);
const ws = workspace(join(scratch, 'run', 'experiment.sqlite'), TABLE);
const rows: Row[] = [];
for (const surface of surfaces(ws)) {
  const row: Row = { surface: surface.name, cases: 0, counts: { accepted: 0, refused: 0, bug: 0 }, slowestMs: 0, bugs: [] };
  // Tables are 3 MB each: a tenth as many.
  const n = surface.name === 'NAS-Bench-201 tables' ? Math.ceil(runs / 10) : runs;
  for (const input of fc.sample(surface.arbitrary, { seed, numRuns: n })) {
    const verdict = await judge(surface, input);
    row.cases++;
    row.counts[verdict.outcome]++;
    row.slowestMs = Math.max(row.slowestMs, verdict.ms);
    if (verdict.outcome === 'bug' && row.bugs.length < 5) row.bugs.push(`${verdict.detail}\n      input: ${JSON.stringify(input).slice(0, 400)}`);
  }
  rows.push(row);
  process.stderr.write(`  ${surface.name}: ${row.cases} cases\n`);
}

// The command line itself: generated arguments to `cost` and `search`, through the real process.
const cli: Row = { surface: 'command lines', cases: 0, counts: { accepted: 0, refused: 0, bug: 0 }, slowestMs: 0, bugs: [] };
writeFileSync(join(scratch, 'net.yaml'), 'input: 32x32x3\nclasses: 10\nstem: [cn_k3_c16]\nstages: [[ir_r2_k3_s2_e6_c24]]\nhead: [gap, fc]\n');
const flag = fc.oneof(
  fc.constantFrom(['--batch', '0'], ['--batch', '64'], ['-m', 'training'], ['-m', 'bogus'], ['--input', '64x64x3'], ['--input', '0x1x1'], ['--classes', '99999999999999999999'], ['--classes', '7'], ['--json'], ['-p', 'edge-cpu'], ['-p', '/dev/zero'], ['-p', 'nowhere.yaml'], ['--bogus']),
);
const costArgs = fc.tuple(fc.constantFrom('mobilenet_v2', 'resnet18', join(scratch, 'net.yaml'), '/dev/zero', scratch, 'nb201:bad', 'nowhere.yaml'), fc.array(flag, { maxLength: 3 })).map(([arch, flags]) => ['cost', arch, ...flags.flat()]);
const searchArgs = fc
  .array(fc.constantFrom(['--max-evals', '3'], ['--max-evals', '0'], ['--workers', '1000000000'], ['--workers', '2'], ['--patience', 'x'], ['--budget', '-1'], ['--seed', '1e9'], ['--lambda-time', 'NaN'], ['--resume', scratch], ['--out', '/proc/procnas-fuzz'], ['--strategy', 'bogus'], ['--table', '/dev/zero'], ['-c', '/dev/zero']), { maxLength: 3 })
  .map((flags) => ['search', '--initial', DENSE, '--table', TABLE, '--max-evals', '3', '--out', join(scratch, `s${Math.random().toString(36).slice(2)}`), ...flags.flat()]);
for (const args of fc.sample(fc.oneof(costArgs, searchArgs), { seed, numRuns: Number(values.cli) })) {
  const started = performance.now();
  const result = procnas(args);
  const ms = performance.now() - started;
  cli.cases++;
  cli.slowestMs = Math.max(cli.slowestMs, ms);
  const first = result.stderr.split('\n')[0] ?? '';
  let outcome: Outcome;
  if (result.status === 0) outcome = 'accepted';
  // Refused: status 2 and a first line that names a file or field ("x: what") or a flag.
  else if (result.status === 2 && /^procnas: (.*\S: \S|.*--[a-z])/.test(first)) outcome = 'refused';
  else outcome = 'bug';
  if (ms > CASE_LIMIT_MS * 3) outcome = 'bug';
  cli.counts[outcome]++;
  if (outcome === 'bug' && cli.bugs.length < 5) cli.bugs.push(`status ${result.status} signal ${result.signal} in ${Math.round(ms)} ms: ${first}\n      procnas ${args.join(' ')}`);
}
rows.push(cli);
ws.close();

const pad = (s: string | number, n: number, right = false): string => (right ? String(s).padStart(n) : String(s).padEnd(n));
console.log(`\n${pad('surface', 24)} ${pad('cases', 6, true)} ${pad('accepted', 9, true)} ${pad('refused', 8, true)} ${pad('bugs', 5, true)} ${pad('slowest', 9, true)}`);
for (const r of rows) {
  console.log(`${pad(r.surface, 24)} ${pad(r.cases, 6, true)} ${pad(r.counts.accepted, 9, true)} ${pad(r.counts.refused, 8, true)} ${pad(r.counts.bug, 5, true)} ${pad(`${Math.round(r.slowestMs)} ms`, 9, true)}`);
}
const total = rows.reduce((n, r) => n + r.cases, 0);
const bugs = rows.reduce((n, r) => n + r.counts.bug, 0);
console.log(`${pad('all', 24)} ${pad(total, 6, true)} ${pad('', 9)} ${pad('', 8)} ${pad(bugs, 5, true)}   peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
for (const r of rows.filter((x) => x.bugs.length > 0)) {
  console.log(`\nbugs in ${r.surface}:`);
  for (const b of r.bugs) console.log(`  - ${b}`);
}
process.exit(bugs > 0 ? 1 : 0);
