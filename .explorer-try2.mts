import { chromium } from 'playwright-core';
import { startDashboard } from './src/cli/serve/server.ts';
const d = await startDashboard({ dirs: [], port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
await page.goto(`${d.url}/explorer`);
await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 60000 });
const x = await page.evaluate(() => {
  const C = (window as any).Chart; const out: any = {};
  for (const id of ['chart-layer-time', 'chart-stage-traffic']) { const c = C.getChart(id); c.options.scales.x.ticks.display = false; c.update('none'); const t = performance.now(); for (let i = 0; i < 5; i++) { c.data = JSON.parse(JSON.stringify(c.data)); c.update('none'); } out[id] = (performance.now() - t) / 5; }
  const tb = document.getElementById('layers')!; let t = performance.now();
  for (let i = 0; i < 5; i++) { const rows = [...tb.children].map(r => r.cloneNode(true)); tb.replaceChildren(...rows as any); void document.body.offsetHeight; }
  out.table = (performance.now() - t) / 5;
  const e = (window as any).procnasExplorer; const ms = []; for (let i = 0; i < 6; i++) { e.set({ sramBytes: 2**(19 + (i % 3)) }); ms.push([e.lastMs.toFixed(1), e.lastCostMs.toFixed(1)]); }
  out.ms = ms; return out;
});
console.log(JSON.stringify(x));
await browser.close(); await d.close();
