/**
 * The cost explorer's script: src/report/explorer/client.ts and the procnas modules it imports
 * (the cost model, the architecture and processor parsers), bundled by esbuild into one script
 * for the browser, once per process.
 *
 * Some of those modules import `node:fs` or `node:path` at the top for functions the explorer
 * never calls (reading files). Each `node:*` import becomes a stub whose every export throws
 * when called, so that the bundle loads in the browser and a call that should not happen there
 * fails loudly instead of quietly doing nothing.
 *
 * zod's `z` re-exports its error messages in some fifty languages, 40% of the bundle; procnas
 * words its own messages, in English, so the bundle keeps zod's English only (zodEnglishOnly).
 */
import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

let cached: Promise<string> | undefined;

/** The minified script; built on the first call, then served from memory. */
export function explorerBundle(): Promise<string> {
  if (!cached) {
    cached = bundle();
    // A failed build is not kept: the next request tries again (and reports its own error).
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

/** The client's entry: the TypeScript source under tsx, or the compiled JavaScript in dist/. */
function entryPoint(): string {
  for (const extension of ['.ts', '.js']) {
    const file = fileURLToPath(new URL(`../../report/explorer/client${extension}`, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error(`the cost explorer's script is missing: no client.ts or client.js in ${fileURLToPath(new URL('../../report/explorer/', import.meta.url))}`);
}

async function bundle(): Promise<string> {
  const result = await build({
    entryPoints: [entryPoint()],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    logLevel: 'silent',
    plugins: [nodeBuiltinStubs, zodEnglishOnly],
  });
  const script = result.outputFiles[0];
  if (!script) throw new Error('esbuild produced no script for the cost explorer');
  return script.text;
}

const STUB_NAMESPACE = 'procnas-node-stub';

/** Resolves every `node:*` import to a stub (stubSource). */
const nodeBuiltinStubs: Plugin = {
  name: 'procnas-node-stubs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: STUB_NAMESPACE }));
    build.onLoad({ filter: /.*/, namespace: STUB_NAMESPACE }, async (args) => ({ contents: await stubSource(args.path), loader: 'js' }));
  },
};

/**
 * A CommonJS module with the Node module's export names, each a function that throws. The names
 * come from the real module, so that every named import the bundle holds finds its stub.
 */
async function stubSource(specifier: string): Promise<string> {
  if (!isBuiltin(specifier)) throw new Error(`${specifier} is not a Node built-in module`);
  const real = (await import(specifier)) as Record<string, unknown>;
  const names = Object.keys(real).filter((name) => name !== 'default');
  const lines = names.map((name) => `exports[${JSON.stringify(name)}] = unavailable(${JSON.stringify(name)});`);
  return [
    `function unavailable(name) { return function () { throw new Error(${JSON.stringify(specifier)} + '.' + name + ' is not available in the browser'); }; }`,
    ...lines,
  ].join('\n');
}

/**
 * zod's index of locales, reduced to English (the one its schemas use by default). Should zod
 * move its files, the filter stops matching and the bundle just keeps every language.
 */
const zodEnglishOnly: Plugin = {
  name: 'procnas-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: args.path, namespace: 'procnas-zod-locales', pluginData: { localesDir: join(dirname(dirname(args.importer)), 'locales') } };
    });
    build.onLoad({ filter: /.*/, namespace: 'procnas-zod-locales' }, (args) => {
      const { localesDir } = args.pluginData as { localesDir: string };
      return { contents: 'export { default as en } from "./en.js";', resolveDir: localesDir, loader: 'js' };
    });
  },
};
