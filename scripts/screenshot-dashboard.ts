/**
 * The README's pictures of the dashboard: a table-evaluated search of 150 trials served by
 * `procnas serve`, its run page and the cost explorer, photographed in Debian's chromium.
 *
 *   node --import tsx scripts/screenshot-dashboard.ts    # writes docs/dashboard-run.png, docs/dashboard-explorer.png
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDashboard } from '../src/cli/serve/server.js';
import { parseSearchConfig } from '../src/experiment/config.js';
import { runExperiment } from '../src/experiment/run.js';

const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DOCS = fileURLToPath(new URL('../docs/', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

const run = join(mkdtempSync(join(tmpdir(), 'procnas-screenshot-')), 'nb201-local');
await runExperiment(parseSearchConfig({ initial: DENSE, evaluator: { kind: 'nb201-table', table: TABLE }, strategy: 'local', seed: 1, stop: { maxEvals: 150 }, workers: 1 }), run, false);
const dashboard = await startDashboard({ dirs: [run], port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
await page.goto(`${dashboard.url}/runs/0`);
await page.waitForSelector('body[data-ready="true"]');
await page.screenshot({ path: join(DOCS, 'dashboard-run.png') });
await page.goto(`${dashboard.url}/explorer`);
await page.waitForSelector('body[data-ready="true"]');
await page.screenshot({ path: join(DOCS, 'dashboard-explorer.png') });
await browser.close();
await dashboard.close();
console.log(`${join(DOCS, 'dashboard-run.png')}\n${join(DOCS, 'dashboard-explorer.png')}`);
