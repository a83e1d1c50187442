/**
 * The HTML report, opened in headless Chromium (Debian's package, driven by playwright-core):
 * it renders with no network and no error, its charts are drawn with the expected points, the
 * diagram and tables are there and sort; a dnas run's report shows its supernet epochs, and no
 * other run's does. Also: an exported TF.js GraphModel runs in the browser
 * as is and gives the Node-side outputs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { estimateCost } from '../src/cost/index.js';
import { initEngine } from '../src/engine/backend.js';
import { Network } from '../src/engine/network.js';
import { tf } from '../src/engine/tf.js';
import { parseSearchConfig } from '../src/experiment/config.js';
import { loadRunReport } from '../src/experiment/load.js';
import { REPORT_FILE } from '../src/experiment/report.js';
import { runExperiment } from '../src/experiment/run.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { exportGraphModel, writeGraphModel } from '../src/export/index.js';
import { presetProcessor } from '../src/processor/index.js';
import type { Processor } from '../src/processor/index.js';
import { renderReport } from '../src/report/index.js';
import type { ReportInput } from '../src/report/index.js';
import { costFigures, paretoFront } from '../src/search/index.js';
import type { Trial } from '../src/search/index.js';
import { lower, notationOf, parseArchitecture } from '../src/space/index.js';
import { relativeError, values, writeHalvesIdx } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const CHARTS = ['chart-pareto-time', 'chart-pareto-energy', 'chart-loss', 'chart-stage-traffic', 'chart-stage-time', 'chart-block-traffic', 'chart-block-time'];

async function launch(): Promise<Browser> {
  // Debian's chromium; CI installs it (.ci/run). Missing, the tests fail: they never skip.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

interface Watched {
  page: Page;
  errors: string[];
  blocked: string[];
}

/** A page that records console errors and page errors, and lets through only `allowed` URLs. */
async function watchedPage(browser: Browser, allowed: (url: string) => boolean): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return { page, errors, blocked };
}

/** The few browser APIs the page-side checks use (the tests compile without the DOM library). */
interface PageGlobals {
  document: {
    getElementById(id: string): { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
  };
  Chart: {
    getChart(id: string): {
      currentDevicePixelRatio: number;
      data: { labels?: unknown[]; datasets: Array<{ label: string; data: unknown[]; yAxisID?: string }> };
      getDatasetMeta(k: number): { data: Array<{ x: number; y: number }> };
    } | undefined;
  };
  pwned?: number;
}

const localFile = (url: string): boolean => /^(file|data):/.test(url);

function isPng(file: string): boolean {
  return readFileSync(file).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

describe('procnas report', () => {
  let browser: Browser;
  let run: string;
  let trials: Trial[];
  before(async () => {
    browser = await launch();
    run = join(mkdtempSync(join(tmpdir(), 'procnas-report-')), 'run');
    const config = parseSearchConfig({ initial: DENSE, evaluator: { kind: 'nb201-table', table: TABLE }, strategy: 'local', seed: 2, stop: { maxEvals: 40 }, workers: 1 });
    const result = await runExperiment(config, run, false);
    trials = result.search.trials;
  });
  after(async () => {
    await browser?.close();
  });

  it('a search writes report.html; procnas report writes it again, and names a folder that is not a run', () => {
    assert.ok(statSync(join(run, REPORT_FILE)).size > 100_000, 'the search wrote its report, Chart.js inlined');
    const out = join(dirname(run), 'again.html');
    const made = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', run, '--out', out], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    assert.equal(made.stdout.trim(), out);
    assert.match(readFileSync(out, 'utf8'), /<script type="application\/json" id="report-data">/);
    const empty = mkdtempSync(join(tmpdir(), 'procnas-notarun-'));
    const bad = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'report', empty], { encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.ok(bad.stderr.includes(empty) && bad.stderr.includes('experiment.sqlite'), bad.stderr);
  });

  it('renders offline with no error: every chart drawn with its points, the diagram, the trials table sorting on a click', async () => {
    const { page, errors, blocked } = await watchedPage(browser, localFile);
    await page.goto(pathToFileURL(join(run, REPORT_FILE)).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    const input = loadRunReport(run);
    const done = trials.filter((t) => t.status === 'done');
    const front = paretoFront(trials);
    assert.ok(done.length >= 40 && front.length >= 2 && input.best !== input.initial, 'a fixture with something to show');

    // Each chart is a Chart.js chart holding the expected points, and its canvas has pixels.
    // (Page-side callbacks define no named functions: tsx would wrap them in its __name helper.)
    const charts = await page.evaluate((ids) => {
      const g = globalThis as unknown as PageGlobals;
      return ids.map((id) => {
        const chart = g.Chart.getChart(id);
        const canvas = g.document.getElementById(id);
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let k = 3; k < pixels.length; k += 4) if ((pixels[k] as number) > 0) painted++;
        return { id, exists: chart !== undefined, labels: chart?.data.labels?.length ?? 0, points: Object.fromEntries((chart?.data.datasets ?? []).map((d) => [d.label, d.data.length])), painted, size: canvas.width * canvas.height };
      });
    }, CHARTS);
    for (const c of charts) {
      assert.ok(c.exists, `${c.id}: no chart`);
      assert.ok(c.painted > 0.02 * c.size, `${c.id}: canvas nearly blank (${c.painted} of ${c.size} pixels painted)`);
    }
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    for (const id of ['chart-pareto-time', 'chart-pareto-energy']) {
      assert.deepEqual(byId[id]!.points, { 'other trials': done.length - front.length, 'Pareto-optimal': front.length, best: 1, initial: 1 }, id);
    }
    assert.deepEqual(byId['chart-loss']!.points, { 'loss of each trial': done.length, 'best so far': trials.length, best: 1, initial: 1 });
    const best = lower(input.best.architecture);
    const stages = input.best.architecture.stages.length + 2;
    assert.equal(byId['chart-stage-traffic']!.labels, stages);
    assert.deepEqual(byId['chart-stage-traffic']!.points, { 'initial: weights': stages, 'initial: activations': stages, 'best: weights': stages, 'best: activations': stages });
    assert.equal(byId['chart-block-time']!.labels, Math.max(best.composites.length, lower(input.initial.architecture).composites.length));

    // The markers are drawn where the chart puts them: the initial's orange triangle, the best's green star.
    const marker = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      const chart = g.Chart.getChart('chart-pareto-time')!;
      const context = g.document.getElementById('chart-pareto-time').getContext('2d');
      const r = chart.currentDevicePixelRatio;
      return Object.fromEntries(['initial', 'best'].map((label) => {
        const p = chart.getDatasetMeta(chart.data.datasets.findIndex((d) => d.label === label)).data[0]!;
        return [label, Array.from(context.getImageData(Math.round(p.x * r), Math.round(p.y * r), 1, 1).data)];
      }));
    });
    const [ir, ig, ib] = marker.initial as [number, number, number];
    assert.ok(ir > 200 && ig > 80 && ig < 150 && ib < 60, `initial marker pixel ${marker.initial}`);
    const [br, bg, bb] = marker.best as [number, number, number];
    assert.ok(bg > 100 && br < 60 && bb < 90, `best marker pixel ${marker.best}`);

    // The processor with its DRAM device and the sources of its numbers.
    const processor = (await page.textContent('table.processor')) ?? '';
    assert.match(processor, /DRAM device\s*lpddr4x-4266-x32: LPDDR4X-4266/);
    assert.match(processor, /DRAM energy\s*read .*, write .*, row 1\.20 nJ, standby 86\.5 mW\s*proxy: no LPDDR4X-4266 currents/);

    // The best architecture: its notation, and a box per stage (with stem and head) and per block.
    assert.equal(await page.textContent('#best-notation'), notationOf(input.best.architecture));
    assert.equal(await page.locator('#diagram .stage').count(), stages);
    assert.equal(await page.locator('#diagram .block').count(), best.composites.length);
    assert.equal(await page.locator('#diagram .composite').count(), best.composites.length);

    // One row per trial; a click on a header sorts by it, a second click reverses.
    const column = (n: number) => page.$$eval(`#trials-table tbody tr td:nth-child(${n})`, (cells) => cells.map((c) => (c.getAttribute('data-v') === '' ? null : Number(c.getAttribute('data-v')))));
    assert.deepEqual(await column(1), trials.map((t) => t.index));
    await page.click('#trials-table thead th:nth-child(5)');
    const ascending = await column(5);
    assert.deepEqual(ascending, trials.map((t) => t.loss).sort((a, b) => a - b));
    assert.equal((await column(1))[0], input.best.index);
    await page.click('#trials-table thead th:nth-child(5)');
    assert.deepEqual(await column(5), [...ascending].reverse());
    assert.equal(await page.getAttribute('#trials-table thead th:nth-child(5)', 'aria-sort'), 'descending');
    await page.click('#trials-table thead th:nth-child(1)');
    assert.deepEqual(await column(1), trials.map((t) => t.index));
    assert.equal(await page.locator('#layers-best tbody tr').count(), best.layers.length);

    // Not a dnas run: no supernet section.
    assert.equal(input.supernet, undefined);
    assert.equal(await page.locator('#supernet, #supernet-table, #chart-supernet-dram, #chart-supernet-error').count(), 0);

    const shot = join(mkdtempSync(join(tmpdir(), 'procnas-shot-')), 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 50_000 && isPng(shot), `screenshot ${shot}`);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, [], 'the report loads nothing from the network');
    await page.close();
  });

  it('escapes what users name: a graph name and a title full of markup stay text', async () => {
    const evil = '<img src=x onerror="window.pwned=1">&amp;';
    const processor = presetProcessor('mobile-npu') as Processor;
    const trial = (index: number, stages: unknown[], error: number): Trial => {
      const architecture = parseArchitecture({ name: 'e', input: '16x16x3', classes: 4, stem: ['cn_k3_c8'], stages, head: ['gap', 'fc'] });
      const cost = costFigures(estimateCost(lower(architecture), processor));
      return { index, key: String(index), architecture, status: 'done', error, loss: error + cost.dramTimeS * 1e3, cost, evaluationS: 0 };
    };
    const graph = { graph: { name: evil, nodes: [{ id: 'a', op: 'conv', kernel: 3, out: 8, inputs: ['in'] }, { id: 'b', op: 'relu', inputs: ['a'] }], output: 'b' } };
    const initial = trial(0, [['ir_k3_s2_e4_c16']], 0.2);
    // Its weights came from a network of a hostile name too.
    const best = { ...trial(1, [[graph], ['ir_k3_s2_e2_c16']], 0.1), inherited: { from: evil, fraction: 0.5 } };
    const input: ReportInput = { title: '</script><script>window.pwned=2</script>', processor, cost: { mode: 'inference', batch: 1 }, trials: [initial, best], initial, best, facts: [['note', evil]] };
    const file = join(mkdtempSync(join(tmpdir(), 'procnas-escape-')), 'report.html');
    writeFileSync(file, renderReport(input));
    const { page, errors, blocked } = await watchedPage(browser, localFile);
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).pwned), undefined);
    assert.equal(await page.textContent('#best-notation'), notationOf(best.architecture));
    assert.ok(notationOf(best.architecture).includes(evil));
    assert.equal(await page.title(), `procnas report — ${input.title}`);
    assert.ok((await page.textContent('#trials-table tbody'))?.includes(evil), 'the table shows the name as text');
    // The inherited share (the last column), and the parent's name as the cell's title, as text.
    const inherited = page.locator('#trials-table tbody tr:nth-child(2) td:nth-child(13)');
    assert.equal(await inherited.textContent(), '50.00%');
    assert.equal(await inherited.getAttribute('title'), `from ${evil}`);
    assert.equal(await page.locator('#trials-table tbody tr:nth-child(1) td:nth-child(13)').textContent(), '', 'the initial trained from scratch');
    // Deployed memory, in KiB: the initial's peak activations as the cost model gives them.
    const peak = (input.trials[0] as Trial).cost.peakActivationBytes;
    assert.equal(await page.locator('#trials-table tbody tr:nth-child(1) td:nth-child(10)').textContent(), `${(peak / 1024).toFixed(1)} KiB`);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    await page.close();
  });
});

describe('the report of a dnas run', () => {
  let browser: Browser;
  let run: string;
  before(async () => {
    browser = await launch();
    // A tiny dnas search (~5 s): the halves IDX set, one stage of two slots, three supernet epochs.
    const dir = mkdtempSync(join(tmpdir(), 'procnas-report-dnas-'));
    writeHalvesIdx(dir);
    run = join(dir, 'run');
    const config = parseSearchConfig({
      dataset: `idx:${dir}`,
      initial: { name: 'halves', input: '8x8x1', classes: 2, stem: ['cn_k3_c8'], stages: [['ir_k3_s2_e2_c8']], head: ['gap', 'fc'] },
      strategy: 'dnas',
      dnas: { warmupEpochs: 1, archEvery: 1, archLr: 0.1 },
      space: { se: [0], depth: { max: 2 } },
      stop: { maxIterations: 3 },
      training: { epochs: 1, batch: 32, validation: 100, limit: 300 },
      final: { enabled: false },
      workers: 1,
      backend: 'wasm',
    });
    await runExperiment(config, run, false);
  });
  after(async () => {
    await browser?.close();
  });

  it('shows the supernet: expected vs argmax DRAM time, error and entropy, one point and one table row per epoch', async () => {
    const store = new ExperimentStore(join(run, 'experiment.sqlite'));
    const epochs = store.supernetEpochs();
    const trials = store.trials();
    store.close();
    assert.equal(epochs.length, 3);
    // procnas report reads the epochs from the store as the search did.
    assert.deepEqual(loadRunReport(run).supernet, epochs);

    const { page, errors, blocked } = await watchedPage(browser, localFile);
    await page.goto(pathToFileURL(join(run, REPORT_FILE)).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    assert.equal(await page.textContent('#supernet'), 'The supernet (dnas)');
    const charts = await page.evaluate((ids) => {
      const g = globalThis as unknown as PageGlobals;
      return ids.map((id) => {
        const chart = g.Chart.getChart(id);
        const canvas = g.document.getElementById(id);
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let k = 3; k < pixels.length; k += 4) if ((pixels[k] as number) > 0) painted++;
        const datasets = chart?.data.datasets ?? [];
        return { id, exists: chart !== undefined, labels: chart?.data.labels ?? [], data: Object.fromEntries(datasets.map((d) => [d.label, d.data])), axes: datasets.map((d) => d.yAxisID ?? 'y'), painted, size: canvas.width * canvas.height };
      });
    }, ['chart-supernet-dram', 'chart-supernet-error']);
    for (const c of charts) {
      assert.ok(c.exists, `${c.id}: no chart`);
      assert.ok(c.painted > 0.02 * c.size, `${c.id}: canvas nearly blank (${c.painted} of ${c.size} pixels painted)`);
      assert.deepEqual(c.labels, [1, 2, 3], `${c.id}: one label per epoch`);
    }
    const [dram, error] = charts as [(typeof charts)[number], (typeof charts)[number]];
    // Shown in the page's time unit: the ratio of expected to exact is the stored one.
    const expected = dram.data['expected under p'] as number[];
    const exact = dram.data['argmax (exact)'] as number[];
    assert.equal(expected.length, epochs.length);
    assert.equal(exact.length, epochs.length);
    assert.equal((dram.data.initial as number[]).length, epochs.length);
    epochs.forEach((e, k) => {
      const ratio = (expected[k] as number) / (exact[k] as number);
      assert.ok(Math.abs(ratio - e.expected.dramTimeS / e.exact.dramTimeS) < 1e-9, `epoch ${e.epoch}: expected/exact ${ratio}`);
    });
    assert.deepEqual(error.data['supernet error'], epochs.map((e) => 100 * e.supernetError));
    assert.deepEqual(error.data.entropy, epochs.map((e) => e.entropy));
    assert.deepEqual(error.axes, ['y', 'y1'], 'error and entropy on their own axes');

    // One row per epoch: its argmax, the trial that trained it, the stored figures.
    assert.equal(await page.locator('#supernet-table tbody tr').count(), epochs.length);
    const cells = await page.$$eval('#supernet-table tbody td', (tds) => tds.map((td) => td.getAttribute('data-v')));
    const width = await page.locator('#supernet-table thead th').count();
    const rows = epochs.map((_, k) => cells.slice(k * width, (k + 1) * width));
    rows.forEach((row, k) => {
      const e = epochs[k]!;
      const trial = trials.find((t) => notationOf(t.architecture) === e.notation);
      assert.ok(trial, `epoch ${e.epoch}'s argmax is a trial`);
      assert.deepEqual(row, [e.epoch + 1, e.notation, trial.index, e.supernetError, e.expected.dramTimeS, e.exact.dramTimeS, e.expected.dramEnergyJ, e.exact.dramEnergyJ, e.entropy, e.trainLoss, e.validationLoss].map((v) => (typeof v === 'number' && !Number.isFinite(v) ? '' : String(v))));
    });
    const headers = await page.$$eval('#supernet-table thead th', (ths) => ths.map((th) => th.textContent));
    assert.deepEqual(headers, ['epoch', 'argmax', 'trial', 'supernet error', 'expected DRAM time', 'argmax DRAM time', 'expected DRAM energy', 'argmax DRAM energy', 'entropy', 'train loss', 'validation loss']);

    const shot = join(dirname(run), 'supernet.png');
    await page.locator('#supernet-section').screenshot({ path: shot });
    assert.ok(isPng(shot), `screenshot ${shot}`);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    await page.close();
  });
});

/** Serves files under `root` (URL path → file) and the TF.js browser bundle, on 127.0.0.1. */
async function serve(files: Record<string, string>): Promise<{ server: Server; origin: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.bin': 'application/octet-stream' };
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', 'http://x').pathname);
    const file = files[path];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('an exported TF.js GraphModel runs in a browser as is', () => {
  it('tf.loadGraphModel over http in Chromium gives the Node-side outputs', async () => {
    await initEngine('wasm');
    const graph = lower(parseArchitecture({ name: 'web', input: '16x16x3', classes: 5, act: 'hswish', stem: ['cn_k3_s2_c8'], stages: [['ir_r2_k5_s1_e3_c8_se0.25', 'ds_k3_s2_c16_nr6'], ['er_k3_s1_e2_c16', 'rb_c16']], head: ['cn_k1_c24', 'gap', 'fc'] }));
    const network = new Network(graph, { seed: 5 });
    const { h, w, c } = graph.input;
    const shape: [number, number, number, number] = [2, h, w, c];
    const input = values(2 * h * w * c, 11);
    // One training-mode pass moves the batch-norm statistics away from their initial values.
    tf.tidy(() => {
      network.apply(tf.tensor4d(values(8 * h * w * c, 3), [8, h, w, c]), true);
    });
    const expected = tf.tidy(() => network.apply(tf.tensor4d(input, shape), false).dataSync() as Float32Array);
    const dir = mkdtempSync(join(tmpdir(), 'procnas-web-'));
    writeGraphModel(dir, exportGraphModel(graph, network.weights(), { notation: 'web-test' }));
    network.dispose();

    const tfjs = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs')), 'tf.min.js');
    const page = join(dir, 'index.html');
    writeFileSync(page, '<!doctype html><meta charset="utf-8"><script src="/tf.min.js"></script>');
    const { server, origin } = await serve({ '/': page, '/tf.min.js': tfjs, '/model/model.json': join(dir, 'model.json'), '/model/group1-shard1of1.bin': join(dir, 'group1-shard1of1.bin') });
    const browser = await launch();
    try {
      const { page: tab, errors, blocked } = await watchedPage(browser, (url) => url.startsWith(`${origin}/`));
      await tab.goto(`${origin}/`);
      const result = await tab.evaluate(async ({ data, dims }) => {
        const t = (globalThis as unknown as { tf: typeof tf }).tf;
        await t.setBackend('cpu');
        await t.ready();
        const model = await t.loadGraphModel('/model/model.json');
        const y = model.predict(t.tensor4d(data, dims)) as tf.Tensor;
        return { backend: t.getBackend(), shape: y.shape, values: Array.from(await y.data()), metadata: model.metadata };
      }, { data: Array.from(input), dims: shape });
      assert.equal(result.backend, 'cpu');
      assert.deepEqual(result.shape, [2, graph.classes]);
      assert.deepEqual(result.metadata, { notation: 'web-test' });
      const error = relativeError(Float32Array.from(result.values), expected);
      assert.ok(error < 1e-4, `max relative error ${error}`);
      assert.deepEqual(errors, []);
      assert.deepEqual(blocked, []);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
