/**
 * The cost explorer of `procnas serve` (/explorer), in headless Chromium (Debian's package,
 * driven by playwright-core) through the real server: the cost it computes in the page is
 * `procnas cost --json --totals`'s, for built-ins, an nb201 cell and a pasted architecture on
 * every preset in both modes; its controls edit the profile that the CLI then agrees with;
 * hostile or broken input shows as text and runs nothing; and the page asks nothing of any
 * origin but the server's, with no error in its console.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { startDashboard } from '../src/cli/serve/server.js';
import type { Dashboard } from '../src/cli/serve/server.js';
import { costReportJson, estimateCost } from '../src/cost/index.js';
import type { CostMode } from '../src/cost/index.js';
import { parseProcessor, presetNames, presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { builtinArchitecture, lower, parseArchitecture } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const NB201 = 'nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|';

/** A small architecture with every kind of entry: blocks in notation and as objects, and a user graph. */
const PASTED = `name: explorer-test
input: 32x32x3
classes: 10
act: relu6
stem: [cn_k3_s1_c16]
stages:
  - [ir_r2_k3_s2_e6_c24, ds_k3_s1_c24_se0.25]
  - [er_k3_s2_e4_c40, { type: ir, kernel: 5, expand: 3, out: 40 }]
  - - graph:
        name: two-branch
        nodes:
          - { id: a, op: conv, kernel: 3, out: 16, inputs: [in] }
          - { id: b, op: dwconv, kernel: 5, inputs: [in] }
          - { id: c, op: concat, inputs: [a, b] }
          - { id: y, op: pwconv, out: 48, inputs: [c] }
        output: y
      repeat: 2
head: [cn_k1_c320, gap, fc]
`;

const HOSTILE = '<img src=x onerror=window.pwned=1>';

/** An architecture as the explorer takes it (`set`) and as the CLI does (a name or a file). */
interface ArchitectureCase {
  label: string;
  change: { architecture: string } | { yaml: string };
  cliArgument: (dir: string) => string;
  architecture: () => Architecture;
}

const builtin = (name: string): ArchitectureCase => ({
  label: name,
  change: { architecture: name },
  cliArgument: () => name,
  architecture: () => builtinArchitecture(name) as Architecture,
});

const ARCHITECTURES: ArchitectureCase[] = [
  builtin('mobilenet_v2'),
  builtin('mnasnet_a1'),
  builtin('resnet18'),
  builtin(NB201),
  { label: 'pasted YAML', change: { yaml: PASTED }, cliArgument: (dir) => join(dir, 'explorer-test.yaml'), architecture: () => parseArchitecture(parseYaml(PASTED)) },
];
const MODES: CostMode[] = ['inference', 'training'];

/** The hook the explorer publishes on window (the tests compile without the DOM library). */
interface ExplorerHook {
  set(partial: Record<string, unknown>): void;
  profile(): Record<string, unknown>;
  result(): object;
  lastMs: number;
  lastCostMs: number;
  computes: number;
}

interface ExplorerGlobals {
  procnasExplorer: ExplorerHook;
  pwned?: unknown;
  Chart: { instances: Record<string, unknown> };
  document: { querySelectorAll(selector: string): { length: number } };
}

/** What the CLI prints: `procnas cost --json --totals`, as JSON (NaN and Infinity would be null). */
function expectedTotals(architecture: Architecture, processor: Processor, mode: CostMode, batch = 1): object {
  const json = costReportJson(estimateCost(lower(architecture), processor, { mode, batch, layers: false }));
  return JSON.parse(JSON.stringify({ ...json, layers: undefined })) as object;
}

function cliTotals(architecture: string, processor: string, mode: CostMode, batch = 1): object {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'cost', architecture, '--processor', processor, '--mode', mode, '--batch', String(batch), '--json', '--totals'], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `procnas cost ${architecture} --processor ${processor} --mode ${mode}: ${run.stderr}`);
  return JSON.parse(run.stdout) as object;
}

/** The explorer's totals now, through JSON as the CLI's go (NaN and Infinity become null alike). */
async function pageTotals(page: Page): Promise<object> {
  return page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as ExplorerGlobals).procnasExplorer.result())) as object);
}

async function setState(page: Page, partial: Record<string, unknown>): Promise<void> {
  await page.evaluate((p) => (globalThis as unknown as ExplorerGlobals).procnasExplorer.set(p), partial);
}

async function computes(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as ExplorerGlobals).procnasExplorer.computes);
}

/** Waits for the debounced recompute after a user action on a control. */
async function recomputedAfter(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => (globalThis as unknown as ExplorerGlobals).procnasExplorer.computes > n, count, { timeout: 10_000 });
}

async function editedProfile(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => (globalThis as unknown as ExplorerGlobals).procnasExplorer.profile());
}

describe('the cost explorer (procnas serve, /explorer) in Chromium', () => {
  let dashboard: Dashboard;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const errors: string[] = [];
  const requested: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'procnas-explorer-'));
    writeFileSync(join(dir, 'explorer-test.yaml'), PASTED);
    // Debian's chromium; CI installs it (.ci/run). Missing, the tests fail: they never skip.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
    dashboard = await startDashboard({ dirs: [], port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    // Everything is recorded; whatever is not the server's is refused, so no test touches the network.
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      requested.push(url);
      return url.startsWith(`${dashboard.url}/`) ? route.continue() : route.abort();
    });
    await page.goto(`${dashboard.url}/explorer`);
    await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.ready === 'true', null, {
      timeout: 60_000,
    });
  });

  after(async () => {
    await browser?.close();
    await dashboard?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('computes what procnas cost --json --totals prints, for 5 architectures × every preset × both modes', async (t) => {
    const cases = ARCHITECTURES.flatMap((a) => presetNames().flatMap((preset) => MODES.map((mode) => ({ a, preset, mode }))));
    const inPage = await page.evaluate(
      (changes) =>
        changes.map((change) => {
          const explorer = (globalThis as unknown as ExplorerGlobals).procnasExplorer;
          explorer.set(change);
          return JSON.parse(JSON.stringify(explorer.result())) as object;
        }),
      cases.map(({ a, preset, mode }) => ({ ...a.change, preset, mode, batch: 1 })),
    );
    cases.forEach(({ a, preset, mode }, k) => {
      assert.deepEqual(inPage[k], expectedTotals(a.architecture(), presetProcessor(preset) as Processor, mode), `${a.label} on ${preset}, ${mode}`);
    });
    // The real CLI, for a few of them: the in-process figures above are what it prints.
    const spawned: Array<[ArchitectureCase, string, CostMode]> = [
      [ARCHITECTURES[0]!, 'mobile-npu', 'inference'],
      [ARCHITECTURES[2]!, 'edge-cpu', 'training'],
      [ARCHITECTURES[3]!, 'eyeriss', 'training'],
      [ARCHITECTURES[4]!, 'stm32f746', 'inference'],
    ];
    for (const [a, preset, mode] of spawned) {
      const k = cases.findIndex((c) => c.a === a && c.preset === preset && c.mode === mode);
      assert.deepEqual(inPage[k], cliTotals(a.cliArgument(dir), preset, mode), `procnas cost, ${a.label} on ${preset}, ${mode}`);
    }
    // How long a recompute takes, for the record: MobileNetV2 on an SRAM size no case used, as after a slider move.
    const timings = await page.evaluate(
      (modes) =>
        modes.map((mode) => {
          const explorer = (globalThis as unknown as ExplorerGlobals).procnasExplorer;
          explorer.set({ architecture: 'mobilenet_v2', preset: 'mobile-npu', mode, sramBytes: 1536 * 1024 });
          return `${mode}: cost ${explorer.lastCostMs.toFixed(1)} ms, page redrawn with it ${explorer.lastMs.toFixed(1)} ms`;
        }),
      MODES,
    );
    t.diagnostic(`one recompute of mobilenet_v2 on mobile-npu with a 1.5 MiB SRAM: ${timings.join('; ')}`);
  });

  it('moving the SRAM slider changes the totals as procnas cost does with the edited profile', async () => {
    await setState(page, { architecture: 'mobilenet_v2', preset: 'mobile-npu', mode: 'inference', batch: 1 });
    const before = (await pageTotals(page)) as { dram: { timeS: number; readBytes: number } };
    const count = await computes(page);
    // Position 17 of the log2 scale: 128 KiB, an eighth of the preset's 1 MiB.
    await page.fill('#sram', '17');
    await recomputedAfter(page, count);
    const profile = await editedProfile(page);
    assert.equal(profile.sram, 128 * 1024);
    assert.equal(await page.textContent('#sram-value'), '128 KiB');
    const moved = (await pageTotals(page)) as { dram: { timeS: number; readBytes: number } };
    assert.ok(moved.dram.readBytes > before.dram.readBytes, `an eighth of the SRAM moves more bytes (${moved.dram.readBytes} against ${before.dram.readBytes})`);
    const file = join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify(profile));
    assert.deepEqual(moved, cliTotals('mobilenet_v2', file, 'inference'));
  });

  it('every other control edits the profile (or the mode and batch) and the cost follows it', async () => {
    await setState(page, { architecture: 'mnasnet_a1', preset: 'mobile-npu', mode: 'inference', batch: 1 });
    const actions: Array<[string, () => Promise<unknown>, (p: Record<string, unknown>) => void]> = [
      ['bandwidth', () => page.fill('#bandwidth', '9'), (p) => assert.equal((p.dram as { bandwidth: number }).bandwidth, 1e9)],
      ['read energy', () => page.fill('#read-energy', '-10'), (p) => assert.equal((p.dram as { energy: { read: number } }).energy.read, 1e-10)],
      ['write energy', () => page.fill('#write-energy', '-11'), (p) => assert.equal((p.dram as { energy: { write: number } }).energy.write, 1e-11)],
      // int8 to fp16: the accumulator written out as int8's default (int32) becomes fp16's (fp32).
      ['dtype', () => page.selectOption('#dtype-select', 'fp16'), (p) => assert.deepEqual([p.dtype, p.accumulator], ['fp16', 'fp32'])],
      ['fusion', () => page.selectOption('#fusion-select', 'none'), (p) => assert.equal(p.fusion, 'none')],
      ['mode', () => page.selectOption('#mode-select', 'training'), () => undefined],
      ['batch', () => page.fill('#batch-input', '3'), () => undefined],
    ];
    let last = await pageTotals(page);
    for (const [what, act, check] of actions) {
      const count = await computes(page);
      await act();
      await recomputedAfter(page, count);
      const profile = await editedProfile(page);
      check(profile);
      const totals = await pageTotals(page);
      assert.notDeepEqual(totals, last, `${what} changed nothing`);
      last = totals;
    }
    const profile = await editedProfile(page);
    assert.deepEqual(last, expectedTotals(builtinArchitecture('mnasnet_a1') as Architecture, parseProcessor(profile), 'training', 3));
  });

  it('shows hostile names and broken input as text, runs none of it, and recovers', async () => {
    let count = await computes(page);
    await page.selectOption('#arch-select', '#pasted');
    await recomputedAfter(page, count);
    count = await computes(page);
    const hostileName = PASTED.replace('name: explorer-test', `name: "${HOSTILE}"`);
    await page.fill('#arch-yaml', hostileName);
    await recomputedAfter(page, count);
    assert.ok((await page.textContent('#totals'))?.includes(`${HOSTILE} on mobile-npu`) ?? false, 'the name is shown as text in the totals');

    count = await computes(page);
    await page.fill('#arch-yaml', hostileName.replace('cn_k3_s1_c16', HOSTILE.replace('pwned=1', 'pwned=2')));
    await recomputedAfter(page, count);
    assert.ok(await page.isVisible('#arch-error'));
    assert.match((await page.textContent('#arch-error')) ?? '', /unknown block type "<img src=x onerror=window\.pwned=2>"/);
    assert.ok(await page.evaluate(() => (globalThis as unknown as { document: { getElementById(id: string): { className: string } } }).document.getElementById('results').className.includes('stale')));

    count = await computes(page);
    await page.fill('#arch-yaml', 'name: [unclosed');
    await recomputedAfter(page, count);
    assert.match((await page.textContent('#arch-error')) ?? '', /^pasted architecture: not valid YAML/);

    await setState(page, { architecture: 'mobilenet_v2' });
    const profile = await editedProfile(page);
    await setState(page, { profile: { ...profile, name: HOSTILE.replace('pwned=1', 'pwned=3'), dram: { ...(profile.dram as object), bandwidth: 1e-300 } } });
    assert.match((await page.textContent('#profile-error')) ?? '', /dram\.bandwidth: 1e-300 B\/s is outside the plausible range/);
    await page.click('summary');
    count = await computes(page);
    await page.fill('#profile-yaml', `name: "${HOSTILE.replace('pwned=1', 'pwned=4')}"\ndtype: [`);
    await recomputedAfter(page, count);
    assert.match((await page.textContent('#profile-error')) ?? '', /^profile: not valid YAML/);

    const ran = await page.evaluate(() => {
      const g = globalThis as unknown as ExplorerGlobals;
      return { pwned: g.pwned, images: g.document.querySelectorAll('img').length };
    });
    assert.deepEqual(ran, { pwned: undefined, images: 0 });

    await setState(page, { preset: 'mobile-npu', mode: 'inference', batch: 1 });
    assert.ok(!(await page.isVisible('#arch-error')) && !(await page.isVisible('#profile-error')) && !(await page.isVisible('#cost-error')));
    assert.deepEqual(await pageTotals(page), expectedTotals(builtinArchitecture('mobilenet_v2') as Architecture, presetProcessor('mobile-npu') as Processor, 'inference'));
  });

  it('keeps two charts however often it recomputes', async () => {
    await page.evaluate(() => {
      const explorer = (globalThis as unknown as ExplorerGlobals).procnasExplorer;
      for (let k = 0; k < 40; k++) explorer.set({ sramBytes: 1024 * 2 ** (8 + (k % 8)), architecture: k % 2 ? 'mobilenet_v2' : 'resnet18' });
    });
    assert.equal(await page.evaluate(() => Object.keys((globalThis as unknown as ExplorerGlobals).Chart.instances).length), 2);
    const layers = estimateCost(lower(builtinArchitecture('mobilenet_v2') as Architecture), presetProcessor('mobile-npu') as Processor, { layers: true }).layers;
    assert.equal(await page.locator('#layers tr').count(), layers.length);
  });

  it('asked only its own server for the page and its two scripts, and logged no error', () => {
    assert.deepEqual(errors, []);
    assert.deepEqual(
      [...new Set(requested)].sort(),
      ['/assets/chart.js', '/assets/explorer.js', '/explorer'].map((path) => `${dashboard.url}${path}`),
    );
  });
});
