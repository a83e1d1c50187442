/** Chart.js's browser build, read from node_modules to be inlined: the page needs no network. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { scriptForInline } from './escape.js';

let cached: string | undefined;

export function chartJsSource(): string {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    // The package's exports map hides dist/chart.umd.js; its CommonJS entry lies beside it.
    const file = join(dirname(require.resolve('chart.js')), 'chart.umd.js');
    cached = scriptForInline(readFileSync(file, 'utf8'), file);
  }
  return cached;
}
