/**
 * The dashboard at scale, in Debian's chromium (playwright-core), medians over rounds:
 *
 * - a run of 10,000 trials (NAS-Bench-201 cells costed by the cost model, made-up errors: see
 *   writeLargeRun in test/fixtures.ts): how long the server takes to make the run's page, cold
 *   (store read, every trial parsed, the view computed) and warm (the view cached), and how long
 *   the page takes to become usable in the browser (charts drawn, the trials table's
 *   first page filled: body[data-ready]) from navigation;
 * - the cost explorer: how long it takes to recompute MobileNetV2 in the browser (lowering,
 *   per-layer mapping search, totals, the table and charts), inference and a training step, the
 *   first time (the cost model's memo of layer mappings empty) and again (memoised).
 *
 * Peers in the same run: for the page, the same run's static report.html opened from disk (the
 * same views, everything inline, no server); for the explorer, the same cost model in Node (what
 * procnas cost runs), which does not draw.
 *
 *   node --import tsx bench/dashboard.ts [--trials 10000] [--rounds 5] [--run DIR]
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { startDashboard } from '../src/cli/serve/server.js';
import { estimateCost, forgetCostMemos } from '../src/cost/index.js';
import { loadRunReport } from '../src/experiment/load.js';
import { writeReport } from '../src/experiment/report.js';
import { presetProcessor } from '../src/processor/index.js';
import { builtinArchitecture, lower } from '../src/space/index.js';
import { writeLargeRun } from '../test/fixtures.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '5' }, run: { type: 'string' } } });
const trials = Number(values.trials);
const rounds = Number(values.rounds);
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The explorer's test hook (see src/report/explorer/client.ts). */
interface ExplorerGlobals {
  procnasExplorer: { set(change: { architecture?: string; mode?: 'inference' | 'training' }): void; lastMs: number; lastCostMs: number };
}

if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install chromium`);
  process.exit(2);
}
const run = values.run ?? join(mkdtempSync(join(tmpdir(), 'procnas-bench-dashboard-')), 'run');
if (!values.run || !existsSync(join(run, 'experiment.sqlite'))) {
  const t = performance.now();
  await writeLargeRun(run, trials, TABLE);
  console.log(`wrote a run of ${trials} trials in ${((performance.now() - t) / 1000).toFixed(1)} s: ${run}`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const server = { cold: [] as number[], warm: [] as number[] };
const usable: number[] = [];
for (let r = 0; r < rounds; r++) {
  // A new server each round: its first answer is cold, its second warm.
  const dashboard = await startDashboard({ dirs: [run], port: 0 });
  for (const into of [server.cold, server.warm]) {
    const t = performance.now();
    const response = await fetch(`${dashboard.url}/runs/0`);
    await response.text();
    into.push(performance.now() - t);
  }
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const t = performance.now();
  await page.goto(`${dashboard.url}/runs/0`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  usable.push(performance.now() - t);
  // The table shows a page of 100 rows; its pager counts every trial.
  const pager = await page.locator('#trials-pager').innerText();
  if (!pager.includes(`of ${trials.toLocaleString('en-US')}`)) throw new Error(`the page's pager says "${pager}", not ${trials} trials`);
  await page.close();
  await dashboard.close();
}

// The peer of the run's page: the same run's static report.html, opened from disk (every script
// and the data inline, no server), as procnas report writes it.
const report = join(run, 'large-report.html');
writeReport(report, loadRunReport(run));
const usableStatic: number[] = [];
for (let r = 0; r < rounds; r++) {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const t = performance.now();
  await page.goto(pathToFileURL(report).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  usableStatic.push(performance.now() - t);
  await page.close();
}

const dashboard = await startDashboard({ dirs: [], port: 0 });
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
await page.goto(`${dashboard.url}/explorer`);
await page.waitForSelector('body[data-ready="true"]');
// The page computes MobileNetV2 for inference as it loads: the cost model's memos (each layer's
// mapping) are empty then, as they are for the first training step asked for below.
type Timing = { shown: number; costed: number };
const timing = (): Promise<Timing> =>
  page.evaluate(() => {
    const explorer = (globalThis as unknown as ExplorerGlobals).procnasExplorer;
    return { shown: explorer.lastMs, costed: explorer.lastCostMs };
  });
const cold: Record<'inference' | 'training', Timing> = { inference: await timing(), training: { shown: NaN, costed: NaN } };
const recompute: Record<'inference' | 'training', Timing[]> = { inference: [], training: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['inference', 'training'] as const) {
    // Another network first, so that MobileNetV2 is computed again rather than found unchanged.
    await page.evaluate(() => (globalThis as unknown as ExplorerGlobals).procnasExplorer.set({ architecture: 'resnet18' }));
    await page.evaluate((m) => (globalThis as unknown as ExplorerGlobals).procnasExplorer.set({ architecture: 'mobilenet_v2', mode: m }), mode);
    const t = await timing();
    if (r === 0 && mode === 'training') cold.training = t;
    else recompute[mode].push(t);
  }
}
await page.close();
await dashboard.close();
await browser.close();

// The explorer's peer: the same cost model in Node (procnas cost's path, without printing), the
// first time (memos forgotten) and again; the browser figures above also include drawing.
const processor = presetProcessor('mobile-npu');
const mobilenet = builtinArchitecture('mobilenet_v2');
if (!processor || !mobilenet) throw new Error('mobile-npu and mobilenet_v2 are built in');
const node = { cold: { inference: [] as number[], training: [] as number[] }, warm: { inference: [] as number[], training: [] as number[] } };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['inference', 'training'] as const) {
    // The first time: lowered and every layer mapped. Again: as the explorer does, on the graph
    // it lowered before (it keeps them), with the mappings memoised.
    forgetCostMemos();
    let t = performance.now();
    const graph = lower(mobilenet);
    estimateCost(graph, processor, { mode, batch: 1, layers: true });
    node.cold[mode].push(performance.now() - t);
    t = performance.now();
    estimateCost(graph, processor, { mode, batch: 1, layers: true });
    node.warm[mode].push(performance.now() - t);
  }
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
console.log(`\nmedians over ${rounds} rounds`);
console.log(`| what | procnas serve | peer | × peer |\n|---|---|---|---|`);
console.log(`| run of ${trials.toLocaleString('en-US')} trials: the server makes the page, cold | ${ms(median(server.cold))} | | |`);
console.log(`| the same, warm (view cached) | ${ms(median(server.warm))} | | |`);
console.log(`| the page usable in chromium (charts of ${trials.toLocaleString('en-US')} trials drawn, the table's first page filled), from navigation; peer: the same run's report.html from disk | ${ms(median(usable))} | ${ms(median(usableStatic))} | ${ratio(median(usable), median(usableStatic))} |`);
const shown = (ts: Timing[]): number => median(ts.map((t) => t.shown));
const costed = (ts: Timing[]): number => median(ts.map((t) => t.costed));
const explorerRow = (what: string, browser: Timing[], peer: number[]): void =>
  console.log(`| ${what} | ${costed(browser).toFixed(1)} ms (${shown(browser).toFixed(1)} ms shown) | ${median(peer).toFixed(1)} ms | ${ratio(costed(browser), median(peer))} |`);
explorerRow('cost explorer: MobileNetV2 costed in the browser (and shown: table, charts), inference, the first time (every layer mapped); peer: the cost model in Node, the first time', [cold.inference], node.cold.inference);
explorerRow('the same, one training step, the first time', [cold.training], node.cold.training);
explorerRow('the same, inference, again (the graph lowered before, the mappings memoised)', recompute.inference, node.warm.inference);
explorerRow('the same, one training step, again', recompute.training, node.warm.training);
