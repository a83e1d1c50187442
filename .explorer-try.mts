import { chromium } from 'playwright-core';
import { startDashboard } from './src/cli/serve/server.ts';
const d = await startDashboard({ dirs: [], port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror', e.message));
const t = Date.now();
await page.goto(`${d.url}/explorer`);
await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60000 });
console.log('ready after', Date.now() - t, 'ms');
const r = await page.evaluate(() => { const e = (window as any).procnasExplorer; return { ms: e.lastMs, cost: e.lastCostMs, result: e.result() }; });
console.log(JSON.stringify(r).slice(0, 600));
for (const mode of ['inference', 'training']) {
  const x = await page.evaluate((mode) => { const e = (window as any).procnasExplorer; e.set({ mode, architecture: 'resnet18' }); e.set({ architecture: 'mobilenet_v2' }); const a = [e.lastMs, e.lastCostMs]; e.set({ sramBytes: 2**21 }); const b = [e.lastMs, e.lastCostMs]; e.set({ sramBytes: 2**20 }); return [a, b, [e.lastMs, e.lastCostMs]]; }, mode);
  console.log(mode, JSON.stringify(x));
}
await page.screenshot({ path: '/tmp/explorer-scratch/shot.png', fullPage: false });
await browser.close(); await d.close();
