/**
 * `procnas serve`: the dashboard over run folders. In Debian's chromium (playwright-core): a run
 * page follows a table-evaluated search as it runs, without a reload; trial and comparison pages;
 * a hostile run name is shown as text; no request leaves the server; no console error. Over raw
 * HTTP: path traversal in every spelling is 404, nothing but GET/HEAD, no other Host; a damaged
 * store, a missing folder and a folder being written say so in the page. The command: bad flags
 * are exit 2, another host warns.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { startDashboard } from '../src/cli/serve/server.js';
import type { Dashboard } from '../src/cli/serve/server.js';
import { parseSearchConfig } from '../src/experiment/config.js';
import { STORE_FILE } from '../src/experiment/folder.js';
import { loadRunReport } from '../src/experiment/load.js';
import { runExperiment } from '../src/experiment/run.js';
import { compareView, trialView } from '../src/report/index.js';
import type { Trial } from '../src/search/index.js';
import { parseArchitecture } from '../src/space/index.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { writeLargeRun } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const HOSTILE = '<img src=x onerror="window.pwned=1">';

async function launch(): Promise<Browser> {
  // Debian's chromium; CI installs it (.ci/run). Missing, the tests fail: they never skip.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A raw GET (or another method), with the path sent exactly as written: no client normalises it. */
function raw(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function tableRun(dir: string, evaluations: number, seed = 1): Promise<void> {
  const config = parseSearchConfig({ initial: DENSE, evaluator: { kind: 'nb201-table', table: TABLE }, strategy: 'random', seed, stop: { maxEvals: evaluations }, workers: 1 });
  await runExperiment(config, dir, false);
}

interface Watched {
  page: Page;
  errors: string[];
  foreign: string[];
}

/** A page that records console and page errors, and every request that is not to `origin`. */
async function watchedPage(browser: Browser, origin: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  return { page, errors, foreign };
}

/** The browser globals the checks read (the tests compile without the DOM library). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number }; body: { getAttribute(name: string): string | null } };
  Chart: { getChart(id: string): { data: { datasets: Array<{ data: unknown[] }> } } | undefined };
  pwned?: number;
  sameDocument?: number;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function storedTrials(dir: string): number {
  const file = join(dir, STORE_FILE);
  if (!existsSync(file)) return 0;
  try {
    const store = new ExperimentStore(file, 'read');
    try {
      return store.count();
    } finally {
      store.close();
    }
  } catch {
    return 0;
  }
}

describe('procnas serve', () => {
  let browser: Browser;
  let root: string;
  let runs: string;
  let dashboard: Dashboard;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'procnas-serve-'));
    runs = join(root, 'runs');
    mkdirSync(runs);
    await tableRun(join(runs, 'plain'), 30);
    await tableRun(join(runs, HOSTILE), 12, 2);
    // A run outside the served folder, linked into it: not served.
    await tableRun(join(root, 'outside'), 5, 3);
    symlinkSync(join(root, 'outside'), join(runs, 'linked-out'));
    // A search that has started and not yet finished a trial: its store holds only its configuration.
    mkdirSync(join(runs, 'starting'));
    const starting = new ExperimentStore(join(runs, 'starting', STORE_FILE), 'write');
    starting.setMeta('config', parseSearchConfig({ initial: DENSE, evaluator: { kind: 'nb201-table', table: TABLE } }));
    starting.close();
    mkdirSync(join(runs, 'damaged'));
    writeFileSync(join(runs, 'damaged', STORE_FILE), 'this is not a database, it was overwritten');
    dashboard = await startDashboard({ dirs: [runs, join(root, 'not-yet')], port: 0, pollMs: 200 });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await dashboard?.close();
  });

  it('binds 127.0.0.1 by default', () => {
    assert.match(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('lists the runs of a folder, not a link out of it, and says what is wrong with a damaged or missing one', async () => {
    const { status, body } = await raw(dashboard.url, '/api/runs');
    assert.equal(status, 200);
    const main = (JSON.parse(body) as { main: string }).main;
    assert.match(main, />plain</);
    assert.ok(main.includes('&lt;img src=x onerror=&quot;window.pwned=1&quot;&gt;'), 'the hostile name, escaped');
    assert.ok(!main.includes(HOSTILE));
    assert.ok(!main.includes('linked-out'), 'a link out of the folder is not a run of it');
    assert.match(main, /damaged[\s\S]*not a SQLite database/);
    assert.match(main, /not-yet: no such folder yet/);
    assert.match(main, />starting<\/a><\/td><td>mobile-npu<\/td><td>local<\/td><td><span[^>]*>interrupted[^<]*<\/span><\/td><td class="num">0<\/td>/);
    // Runs are numbered in the order found (by name: the hostile one, damaged, plain, starting), then the missing folder.
    const starting = await raw(dashboard.url, '/runs/3');
    assert.match(starting.body, /class="problem" id="problem">[^<]*the experiment has no finished trial yet/);
    const runsPage = await raw(dashboard.url, '/runs/4');
    assert.equal(runsPage.status, 200);
    assert.match(runsPage.body, /class="problem" id="problem">[^<]*not-yet: no such folder yet/);
    const damaged = await raw(dashboard.url, '/runs/1');
    assert.match(damaged.body, /class="problem" id="problem">[^<]*not a SQLite database/);
    assert.equal((await raw(dashboard.url, '/runs/5')).status, 404, 'no sixth run: the linked one is not served');
  });

  it('answers 404 to path traversal in every spelling, and lists no directory', async () => {
    const attempts = [
      '/../../etc/passwd', '/runs/../../etc/passwd', '/runs/2/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd',
      '/runs/2/%2e%2e/experiment.sqlite', '/runs/2/experiment.sqlite', '/runs/2/trials/..%2f..%2fexperiment.sqlite', '/assets/../package.json',
      '/assets/%2e%2e/package.json', '/experiment.sqlite', '//etc/passwd', '/runs/', '/runs', '/assets/', '/runs/2/trials/', '/runs/-1',
      '/runs/2%2f..', '/runs/0x2', '/explorer/../runs/2', '/runs/99999999999999', '/%00', '/runs/2/trials/1%00',
    ];
    for (const path of attempts) {
      const { status, body } = await raw(dashboard.url, path);
      assert.equal(status, 404, `${path}: ${status}`);
      assert.ok(!/SQLite format|root:/.test(body), path);
    }
  });

  it('is read-only and answers only to its own name', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) assert.equal((await raw(dashboard.url, '/api/runs', { method })).status, 405, method);
    const rebound = await raw(dashboard.url, '/api/runs', { host: 'evil.example:80' });
    assert.equal(rebound.status, 421);
    assert.ok(!rebound.body.includes('plain'));
    const page = await raw(dashboard.url, '/');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  it('shows a hostile run name as text on its page, with no script run, no request elsewhere, no console error', async () => {
    const w = await watchedPage(browser, dashboard.url);
    await w.page.goto(`${dashboard.url}/`);
    await w.page.getByRole('link', { name: HOSTILE }).click();
    await w.page.waitForSelector('body[data-ready="true"]');
    assert.match(await w.page.locator('h1').innerText(), /window\.pwned=1/);
    assert.equal(await w.page.evaluate(() => (globalThis as unknown as PageGlobals).pwned), undefined);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.foreign, []);
    await w.page.close();
  });

  it('links a trial to its page (figures, drawing, each layer with its mapping) and compares two trials', async () => {
    const w = await watchedPage(browser, dashboard.url);
    await w.page.goto(`${dashboard.url}/runs/2`);
    await w.page.waitForSelector('body[data-ready="true"]');
    assert.equal(await w.page.locator('#trials-table tbody tr').count(), 30);
    await w.page.locator('#trials-table a[href="/runs/2/trials/5"]').click();
    await w.page.waitForURL(/\/runs\/2\/trials\/5$/);
    assert.match(await w.page.locator('h1').innerText(), /^trial 5/);
    const layers = await w.page.locator('#trial-layers tbody tr').count();
    assert.ok(layers > 10, `${layers} layers`);
    assert.match(await w.page.locator('#trial-layers tbody tr').first().innerText(), /(WS|OS|IS|all) n\d+/);
    await w.page.locator('form.compare-form input[name="b"]').fill('0');
    await w.page.locator('form.compare-form button').click();
    await w.page.waitForURL(/compare\?a=5&b=0$/);
    await w.page.waitForSelector('body[data-ready="true"]');
    assert.match(await w.page.locator('table.compare thead').innerText(), /trial 5[\s\S]*trial 0/);
    const bars = await w.page.evaluate(() => (globalThis as unknown as PageGlobals).Chart.getChart('chart-stage-time')?.data.datasets.length);
    assert.equal(bars, 2);
    assert.equal(await w.page.locator('.diagram').count(), 2);
    const bad = await raw(dashboard.url, '/runs/2/compare?a=5&b=77');
    assert.match(bad.body, /trial b: &quot;77&quot;: give a trial number from 0 to 29/);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.foreign, []);
    await w.page.close();
  });

  it('opens a run of 10,000 trials: charts of them all, the table a page at a time, sorted over them all', async () => {
    const large = join(root, 'large');
    await writeLargeRun(large, 10_000, TABLE);
    const served = await startDashboard({ dirs: [large], port: 0 });
    try {
      const w = await watchedPage(browser, served.url);
      await w.page.goto(`${served.url}/runs/0`, { timeout: 120_000 });
      await w.page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
      assert.match(await w.page.locator('#trials-pager').innerText(), /trials 1–100 of 10,000, page 1 of 100/);
      assert.equal(await w.page.locator('#trials-table tbody tr').count(), 100);
      const points = await w.page.evaluate(() => (globalThis as unknown as PageGlobals).Chart.getChart('chart-loss')?.data.datasets[0]?.data.length);
      assert.equal(points, 10_000, 'every trial in the loss chart');
      // Sorting by loss sorts all 10,000: the first row is the lowest loss of the run, the best.
      await w.page.locator('#trials-table thead th:nth-child(5)').click();
      assert.match(await w.page.locator('#trials-table tbody tr').first().innerText(), /★ best/);
      await w.page.getByRole('button', { name: 'last »' }).click();
      assert.match(await w.page.locator('#trials-pager').innerText(), /trials 9,901–10,000 of 10,000, page 100 of 100/);
      assert.deepEqual(w.errors, []);
      await w.page.close();
    } finally {
      await served.close();
    }
  });

  it('follows a table-evaluated search as it runs: trials and charts grow without a reload', async () => {
    const live = join(root, 'live');
    const search: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'search', '--initial', DENSE, '--table', TABLE, '--strategy', 'random', '--max-evals', '4000', '--patience', '100000', '--out', live],
      { stdio: 'ignore' },
    );
    const served = await startDashboard({ dirs: [live], port: 0, pollMs: 200 });
    try {
      await until('the search to store its first trials', () => storedTrials(live) >= 2, 60_000);
      const w = await watchedPage(browser, served.url);
      await w.page.goto(`${served.url}/runs/0`);
      await w.page.waitForSelector('body[data-ready="true"]');
      await w.page.evaluate(() => ((globalThis as unknown as PageGlobals).sameDocument = 1));
      // The table shows a page of rows; the pager counts them all ("trials 1–100 of 1,234").
      const rows = async () => Number((/of ([\d,]+)/.exec(await w.page.locator('#trials-pager').innerText()) ?? ['', '0'])[1]?.replace(/,/g, ''));
      const points = () => w.page.evaluate(() => (globalThis as unknown as PageGlobals).Chart.getChart('chart-loss')?.data.datasets[1]?.data.length ?? 0);
      // The chart first: a refresh landing between the two reads would otherwise count its
      // points in `first`, and the rows' growth that follows could be that same refresh's.
      const firstPoints = await points();
      const first = { rows: await rows(), points: firstPoints };
      await until('more trials in the page', async () => (await rows()) > first.rows + 20);
      assert.ok((await points()) > first.points, 'the loss chart grew');
      assert.equal(await w.page.evaluate(() => (globalThis as unknown as PageGlobals).sameDocument), 1, 'the page was not reloaded');
      assert.match(await w.page.locator('#live-status').innerText(), /live/);
      // The list of runs follows too.
      await w.page.goto(`${served.url}/`);
      const count = async () => Number(await w.page.locator('#runs-table tbody tr td:nth-child(5)').innerText());
      const before = await count();
      await until('the runs page to count more trials', async () => (await count()) > before);
      assert.deepEqual(w.errors, []);
      assert.deepEqual(w.foreign, []);
      await w.page.close();
    } finally {
      search.kill('SIGKILL');
      await served.close();
    }
  });
});

describe('the dashboard\'s views escape what a store holds', () => {
  it('a trial whose architecture holds a hostile graph name: its page and a comparison show the name as text', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'procnas-serve-views-')), 'run');
    await tableRun(dir, 3);
    const input = loadRunReport(dir);
    const architecture = parseArchitecture({
      name: HOSTILE, input: '32x32x3', classes: 10, stem: ['cn_k3_s1_c16'],
      stages: [[{ graph: { name: HOSTILE, nodes: [{ id: 'a', op: 'conv', kernel: 3, out: 16, inputs: ['in'] }], output: 'a' } }]], head: ['gap', 'fc'],
    });
    const hostile = { ...(input.trials[1] as Trial), architecture };
    for (const view of [trialView(input, hostile, '/runs/0/compare'), compareView(input, input.trials[0] as Trial, hostile)]) {
      assert.ok(view.main.includes('graph:&lt;img src=x onerror=&quot;window.pwned=1&quot;&gt;'), 'the name, escaped');
      assert.ok(!view.main.includes(HOSTILE), 'never as markup');
    }
  });
});

describe('procnas serve (the command)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('refuses a bad port with status 2 and a first line naming it', () => {
    const r = cli(['--port', '70000']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.split('\n')[0] as string, /--port.*port number/);
  });

  it('refuses a port in use with status 2, and a host that is not this machine\'s', async () => {
    const taken = await startDashboard({ dirs: [], port: 0 });
    try {
      const port = new URL(taken.url).port;
      const r = cli(['--port', port]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr.split('\n')[0] as string, new RegExp(`--port ${port}: the port is in use`));
    } finally {
      await taken.close();
    }
    const r = cli(['--host', '203.0.113.7', '--port', '0']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--host 203\.0\.113\.7: not an address of this machine/);
  });

  it('warns that another host has no authentication, and serves until stopped', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--host', '0.0.0.0', '--port', '0', mkdtempSync(join(tmpdir(), 'procnas-serve-empty-'))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      await until('the URL', () => /http:\/\/0\.0\.0\.0:\d+\//.test(out));
      assert.match(err, /warning: listening on 0\.0\.0\.0: anyone who can reach it can read these runs; there is no authentication/);
      const url = (/http:\/\/0\.0\.0\.0:(\d+)/.exec(out) as RegExpExecArray)[1] as string;
      const page = await raw(`http://127.0.0.1:${url}`, '/');
      assert.equal(page.status, 200);
      assert.match(page.body, /no experiment.sqlite in it/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    }
  });

  it('--open opens the URL in the desktop\'s browser (xdg-open)', async () => {
    // A stand-in xdg-open first on the PATH records what it was asked to open.
    const bin = mkdtempSync(join(tmpdir(), 'procnas-serve-open-'));
    const opened = join(bin, 'opened');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}\n`, { mode: 0o755 });
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--open', bin], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.resume();
    try {
      await until('the browser to be asked', () => existsSync(opened) && readFileSync(opened, 'utf8').length > 0);
      const url = (/(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out) as RegExpExecArray)[1];
      assert.equal(readFileSync(opened, 'utf8').trim(), url);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  it('search --serve serves the run while it runs, and after it until stopped', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'procnas-serve-search-')), 'run');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'search', '--initial', DENSE, '--table', TABLE, '--max-evals', '25', '--serve', '0', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.resume();
    try {
      await until('the dashboard\'s URL', () => /live dashboard of this run: http:\/\/127\.0\.0\.1:\d+\/runs\/0/.test(err), 60_000);
      const url = (/(http:\/\/127\.0\.0\.1:\d+)\/runs\/0/.exec(err) as RegExpExecArray)[1] as string;
      await until('the end of the search', () => /the search has ended; still serving/.test(err), 60_000);
      const page = await raw(url, '/runs/0');
      assert.equal(page.status, 200);
      assert.match(page.body, /stopped because<\/th><td>25 evaluations/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
    }
  });
});
