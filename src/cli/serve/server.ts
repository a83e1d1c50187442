/**
 * `procnas serve`'s HTTP server: read-only pages and JSON over the runs named on the command line,
 * server-sent events when a run's store changes, and the cost explorer. Routes are a fixed table
 * of patterns whose only variables are numbers: a request never names a file, so there is
 * nothing to traverse and no directory to list. Node's own http module: the server serves a
 * dozen fixed routes and no file from disk, which a framework would not make safer.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../experiment/config.js';
import { StoreError } from '../../experiment/store.js';
import { chartJsSource } from '../../report/chartjs.js';
import { CLIENT_SCRIPT } from '../../report/client.js';
import { explorerView } from '../../report/explorer/page.js';
import { LIVE_SCRIPT, renderPage } from '../../report/shell.js';
import type { Assets, LiveSource, View } from '../../report/shell.js';
import { explorerBundle } from './bundle.js';
import { Catalogue } from './catalogue.js';
import { Watcher } from './watch.js';
import { compareOf, runView, runsOf, trialOf } from './views.js';

export interface DashboardOptions {
  /** Run folders, or folders of runs. */
  dirs: string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** How often the stores are looked at for changes while a page listens (default 500 ms). */
  pollMs?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const ASSETS: Assets = { kind: 'linked', chart: '/assets/chart.js', report: '/assets/report.js', live: '/assets/live.js' };

const SECURITY_HEADERS: Record<string, string> = {
  // Nothing from anywhere but this server, no inline code (the data blocks are JSON, not code).
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** A route's answer. */
type Answer =
  | { kind: 'html'; html: string }
  | { kind: 'json'; value: unknown }
  | { kind: 'script'; source: string | Promise<string> }
  | { kind: 'events'; run: number | 'all' }
  | { kind: 'missing' };

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const catalogue = new Catalogue(options.dirs);
  const watcher = new Watcher(catalogue, options.pollMs ?? 500);
  const host = options.host ?? '127.0.0.1';

  const nav = (extra: Array<[string, string]> = []): Array<[string, string]> => [['runs', '/'], ...extra, ['cost explorer', '/explorer']];

  const page = (view: View, extra: Array<[string, string]> = [], live?: LiveSource): Answer => ({ kind: 'html', html: renderPage(view, ASSETS, { nav: nav(extra), ...(live ? { live } : {}) }) });

  function route(path: string, query: URLSearchParams): Answer {
    if (path === '/') return page(runsOf(catalogue), [], { view: '/api/runs', events: '/api/events' });
    if (path === '/api/runs') return { kind: 'json', value: runsOf(catalogue) };
    if (path === '/api/events') return { kind: 'events', run: 'all' };
    if (path === '/explorer') return { kind: 'html', html: renderPage(explorerView(), { kind: 'scripts', urls: ['/assets/chart.js', '/assets/explorer.js'] }, { nav: nav() }) };
    if (path === '/assets/chart.js') return { kind: 'script', source: chartJsSource() };
    if (path === '/assets/report.js') return { kind: 'script', source: CLIENT_SCRIPT };
    if (path === '/assets/live.js') return { kind: 'script', source: LIVE_SCRIPT };
    if (path === '/assets/explorer.js') return { kind: 'script', source: explorerBundle() };
    let m = /^\/(api\/)?runs\/(\d{1,9})$/.exec(path);
    if (m) {
      const run = catalogue.run(Number(m[2]));
      if (!run) return { kind: 'missing' };
      const view = runView(run, watcher);
      if (m[1]) return { kind: 'json', value: view };
      return page(view, [[run.name, `/runs/${run.id}`]], { view: `/api/runs/${run.id}`, events: `/api/runs/${run.id}/events` });
    }
    m = /^\/api\/runs\/(\d{1,9})\/events$/.exec(path);
    if (m) return catalogue.run(Number(m[1])) ? { kind: 'events', run: Number(m[1]) } : { kind: 'missing' };
    m = /^\/runs\/(\d{1,9})\/trials\/(\d{1,9})$/.exec(path);
    if (m) {
      const run = catalogue.run(Number(m[1]));
      if (!run) return { kind: 'missing' };
      const view = trialOf(run, watcher, Number(m[2]));
      return view ? page(view, [[run.name, `/runs/${run.id}`]]) : { kind: 'missing' };
    }
    m = /^\/runs\/(\d{1,9})\/compare$/.exec(path);
    if (m) {
      const run = catalogue.run(Number(m[1]));
      if (!run) return { kind: 'missing' };
      return page(compareOf(run, watcher, query.get('a'), query.get('b')), [[run.name, `/runs/${run.id}`]]);
    }
    return { kind: 'missing' };
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'read-only: only GET and HEAD\n', head);
    }
    // A page of another site must not reach this server through a name that resolves here (DNS rebinding).
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostName)) return send(res, 421, 'text/plain; charset=utf-8', 'this server answers only to 127.0.0.1 and localhost\n', head);
    // The path as sent, not decoded: an encoded "/" or ".." matches no route.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const a = route(path, query);
    switch (a.kind) {
      case 'missing':
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      case 'json':
        return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(a.value), head);
      case 'script':
        return send(res, 200, 'text/javascript; charset=utf-8', await a.source, head);
      case 'html':
        return send(res, 200, 'text/html; charset=utf-8', a.html, head);
      case 'events':
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        if (head) return void res.end();
        watcher.listen(a.run, res);
        return;
    }
  }

  const server: Server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      // Bad input (a damaged store) is shown in the page by the views; what lands here is a bug.
      const bad = error instanceof ConfigError || error instanceof StoreError;
      if (!bad) console.error(`procnas serve: ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) send(res, bad ? 400 : 500, 'text/plain; charset=utf-8', `${bad ? '' : 'a bug in procnas: '}${error instanceof Error ? error.message : String(error)}\n`, false);
      else res.end();
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((done) => {
        watcher.close();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
