/**
 * The page around a view: one shell for the static report (every script inline, opens from disk)
 * and for the dashboard's pages (scripts from the server, so that its Content-Security-Policy can
 * forbid inline code, and a live view that redraws as its run grows).
 */
import { chartJsSource } from './chartjs.js';
import { CLIENT_SCRIPT } from './client.js';
import { escapeHtml, jsonForScript, scriptForInline } from './escape.js';
import { LIVE_SCRIPT } from './live.js';
import { STYLES } from './styles.js';
import type { PageData } from './types.js';

/** A page's content: the inside of its <main>, and the data its script draws (if it draws any). */
export interface View {
  title: string;
  main: string;
  data?: PageData;
  /** Style rules of this view alone, after the shared ones. */
  styles?: string;
}

/** Where a page's scripts come from: inline (the static report), or URLs on the dashboard's server. */
export type Assets =
  | { kind: 'inline' }
  | { kind: 'linked'; chart: string; report: string; live: string }
  /** A page with scripts of its own (the cost explorer), in this order. */
  | { kind: 'scripts'; urls: string[] };

export const INLINE_ASSETS: Assets = { kind: 'inline' };

/** The dashboard's: the URL of the view as JSON ({ title, main, data }) and of the events that say it changed. */
export interface LiveSource {
  view: string;
  events: string;
}

export interface PageOptions {
  /** Links above the content (the dashboard's navigation): [text, href]. */
  nav?: Array<[string, string]>;
  live?: LiveSource;
}

function scripts(view: View, assets: Assets, live: boolean): string {
  const data = view.data ? `<script type="application/json" id="report-data">${jsonForScript(view.data)}</script>\n` : '';
  if (assets.kind === 'inline') {
    if (!view.data) return '';
    return `${data}<script>${chartJsSource()}</script>\n<script>${scriptForInline(CLIENT_SCRIPT, 'the report script')}</script>`;
  }
  const src = (url: string) => `<script src="${escapeHtml(url)}"></script>`;
  if (assets.kind === 'scripts') return `${data}${assets.urls.map(src).join('\n')}`;
  return `${data}${src(assets.chart)}\n${src(assets.report)}${live ? `\n${src(assets.live)}` : ''}`;
}

export function renderPage(view: View, assets: Assets, options: PageOptions = {}): string {
  const nav = options.nav?.length
    ? `<nav class="dashboard">${options.nav.map(([text, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`).join('')}${options.live ? '<span id="live-status" class="live">live</span>' : ''}</nav>\n`
    : '';
  const live = options.live ? ` data-live-view="${escapeHtml(options.live.view)}" data-live-events="${escapeHtml(options.live.events)}"` : '';
  const footer = `Charts by Chart.js (MIT license)${assets.kind === 'inline' ? ', included in this file' : ''}.`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLES}${view.styles ?? ''}</style>
</head>
<body>
${nav}<main${live}>
${view.main}
</main>
<footer>Made by procnas. ${footer}</footer>
${scripts(view, assets, options.live !== undefined)}
</body>
</html>
`;
}

export { LIVE_SCRIPT };
