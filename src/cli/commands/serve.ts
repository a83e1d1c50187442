import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ConfigError } from '../../experiment/config.js';
import { startDashboard } from '../serve/server.js';
import type { Dashboard } from '../serve/server.js';
import { port } from '../args.js';

export const DEFAULT_PORT = 8731;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

interface ServeFlags {
  port: number;
  host: string;
  open?: boolean;
}

/** Starts the dashboard, or says in one line why it cannot (the port is taken, the host is not this machine's). */
export async function serveDashboard(dirs: string[], flags: ServeFlags): Promise<Dashboard> {
  if (!LOOPBACK.has(flags.host)) {
    console.error(`procnas serve: warning: listening on ${flags.host}: anyone who can reach it can read these runs; there is no authentication`);
  }
  try {
    return await startDashboard({ dirs, host: flags.host, port: flags.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`--port ${flags.port}: the port is in use; choose another (--port 0 takes any free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new ConfigError(`--host ${flags.host}: not an address of this machine`);
    if (code === 'EACCES') throw new ConfigError(`--port ${flags.port}: not allowed to listen there (ports below 1024 need privileges)`);
    throw error;
  }
}

/** Opens the URL in the desktop's browser; where there is none, the printed URL is enough. */
export function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => console.error(`procnas serve: cannot open a browser (${command}); open ${url}`));
  child.unref();
}

/** Waits for Ctrl-C (or a SIGTERM). */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('A live dashboard of searches (runs, trials, Pareto fronts, updating as they run) and an in-browser cost explorer; read-only')
    .argument('[dirs...]', 'run folders, or folders of runs (default: runs)')
    .option('--port <n>', 'port (0: any free one)', port, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on; anything but 127.0.0.1 exposes the runs to the network, without authentication', '127.0.0.1')
    .option('--open', 'open the dashboard in the browser')
    .action(async (dirs: string[], flags: ServeFlags) => {
      const dashboard = await serveDashboard(dirs.length > 0 ? dirs : ['runs'], flags);
      console.log(`procnas serve: ${dashboard.url}/ (Ctrl-C to stop)`);
      if (flags.open) openBrowser(`${dashboard.url}/`);
      await untilStopped();
      await dashboard.close();
      process.exit(0);
    });
}
