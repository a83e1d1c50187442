/**
 * The input surfaces of procnas, as fast-check properties (issue 14). Each surface turns a
 * generated input into what procnas makes of it through the same functions its commands call,
 * and classifies the outcome as the CLI would: accepted (status 0, every figure finite and not
 * negative), refused (status 2: an error procnas raised about the input, whose first line names
 * the file or flag), or a bug (status 1: any other error, an insane figure, a refusal that says
 * nothing, or a case slower or hungrier than the limits). Used by test/fuzz.test.ts (a fixed seed, a few
 * hundred cases) and scripts/fuzz.ts (`npm run fuzz`: thousands, with a summary table).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { duration, fraction, inputShape, nonNegativeInt, nonNegativeNumber, port, positiveInt, positiveNumber, sizeInt } from '../src/cli/args.js';
import { isBadInput } from '../src/cli/errors.js';
import { startDashboard } from '../src/cli/serve/server.js';
import type { Dashboard } from '../src/cli/serve/server.js';
import { estimateCost, nonFiniteFigure } from '../src/cost/index.js';
import { readIdxDataset } from '../src/data/index.js';
import { ConfigError, loadSearchConfigFile, mergeConfig, parseSearchConfig } from '../src/experiment/config.js';
import { ExperimentStore } from '../src/experiment/store.js';
import { makeFolder, writeFileAtomic } from '../src/files/index.js';
import { loadProcessorFile, profileData, resolveProcessor } from '../src/processor/index.js';
import { Nb201TableEvaluator } from '../src/search/index.js';
import { BASIC_OPS } from '../src/space/custom.js';
import { Nb201Space, lower, resolveArchitecture } from '../src/space/index.js';
import { writeHalvesIdx } from './fixtures.js';

export type Outcome = 'accepted' | 'refused' | 'bug';

export interface Verdict {
  outcome: Outcome;
  /** For a refusal, its first line; for a bug, what was wrong. */
  detail: string;
  ms: number;
}

export interface Surface<T> {
  name: string;
  arbitrary: fc.Arbitrary<T>;
  /** Runs the input; returns the figures procnas would print (checked finite, not negative), or throws. */
  run(input: T): Promise<number[]> | number[];
}

/** No single input may take longer than this (the slowest legitimate case costs ResNet-50 in training mode). */
export const CASE_LIMIT_MS = 10_000;

/** Nor leave the process holding more memory than this (the 1,048,576-block file took 3.8 GB). */
export const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

/** What the CLI would make of one input. */
export async function judge<T>(surface: Surface<T>, input: T): Promise<Verdict> {
  const started = performance.now();
  let verdict: Omit<Verdict, 'ms'>;
  try {
    const figures = await surface.run(input);
    const insane = figures.find((x) => !Number.isFinite(x) || x < 0);
    verdict = insane === undefined ? { outcome: 'accepted', detail: '' } : { outcome: 'bug', detail: `accepted with the figure ${insane}` };
  } catch (error) {
    const first = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    const refused = isBadInput(error) || error instanceof InvalidArgumentError;
    if (!refused) verdict = { outcome: 'bug', detail: `${error instanceof Error ? error.name : typeof error}: ${first}` };
    // A refusal names where (a file, a flag, a field: "something: what is wrong") on its first line.
    else if (!/\S: \S/.test(first) && !(error instanceof InvalidArgumentError)) verdict = { outcome: 'bug', detail: `a refusal that names nothing: ${first}` };
    else verdict = { outcome: 'refused', detail: first };
  }
  const ms = performance.now() - started;
  if (verdict.outcome !== 'bug' && ms > CASE_LIMIT_MS) verdict = { outcome: 'bug', detail: `took ${Math.round(ms)} ms` };
  const rss = process.memoryUsage().rss;
  if (verdict.outcome !== 'bug' && rss > MEMORY_LIMIT_BYTES) verdict = { outcome: 'bug', detail: `left the process at ${Math.round(rss / 1024 ** 2)} MB` };
  return { ...verdict, ms };
}

/* ---------- values: plausible, extreme and wrong ---------- */

const extremeNumber = fc.constantFrom(0, -1, 1e-300, 1e300, 2 ** 31, 2 ** 53 + 2, Number.MAX_VALUE, 0.5, 1048576, 1048577);
const smallInt = fc.integer({ min: 1, max: 8 });
const numberLike = fc.oneof({ weight: 4, arbitrary: smallInt }, { weight: 2, arbitrary: extremeNumber }, { weight: 1, arbitrary: fc.double() });
const wrongType = fc.constantFrom<unknown>(null, true, 'x', [], {}, [1, 2], { a: 1 }, '', '1e-300', '∞');
const anyValue = fc.oneof({ weight: 3, arbitrary: numberLike as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: wrongType });
/** A number as written in a block string: usually sane, sometimes not a number at all. */
const optionText = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 64 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom('0', '1e-300', '1e300', '99999999999999999999', '-1', '', 'x', '0.5', '1048577', '10001', 'NaN', 'Infinity', 're', 'hs', 'r6', '333333', '01234', '3.5') },
);

/* ---------- architectures ---------- */

const blockString = fc
  .tuple(
    fc.constantFrom('ir', 'er', 'ds', 'cn', 'bt', 'ba', 'nb', 'gap', 'fc', 'zz'),
    fc.array(fc.oneof(fc.tuple(fc.constantFrom('r', 'k', 's', 'e', 'c', 'se', 'd', 'g', 'n', 'o'), optionText).map(([k, v]) => `${k}${v}`), fc.constantFrom('noskip', 'cip')), { maxLength: 4 }),
  )
  .map(([head, options]) => [head, ...options].join('_'));

const blockObject = fc.record(
  { type: fc.constantFrom('ir', 'er', 'ds', 'cn', 'bt', 'ba', 'zz'), kernel: anyValue, stride: anyValue, expand: anyValue, out: anyValue, se: anyValue, repeat: anyValue },
  { requiredKeys: ['type'] },
);

/** A user graph: nodes whose inputs may name later nodes (cycles), missing ones or nothing. */
const graphEntry = fc
  .array(fc.record({ op: fc.constantFrom(...BASIC_OPS, 'bogus'), inputs: fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 2 }), out: fc.option(numberLike, { nil: undefined }), kernel: fc.option(fc.constantFrom(1, 3, 5, 0), { nil: undefined }), stride: fc.option(fc.constantFrom(1, 2), { nil: undefined }) }), { minLength: 1, maxLength: 6 })
  .map((nodes) => ({
    graph: {
      nodes: nodes.map((n, i) => ({
        id: `n${i}`,
        op: n.op,
        inputs: n.inputs.map((j) => (j < 0 ? (j === -1 ? 'in' : 'nowhere') : `n${j}`)),
        ...(n.out !== undefined ? { out: n.out } : {}),
        ...(n.kernel !== undefined ? { kernel: n.kernel } : {}),
        ...(n.stride !== undefined ? { stride: n.stride } : {}),
      })),
      output: `n${nodes.length - 1}`,
    },
  }));

/** Blocks that build, mostly: each type with options it takes, at sane values. */
const SANE_OPTIONS: Record<string, string[][]> = {
  ir: [['', '_k3', '_k5'], ['', '_s2'], ['_e1', '_e4', '_e6'], ['_c8', '_c16', '_c24'], ['', '_r2', '_se0.25']],
  er: [['', '_k3'], ['', '_s2'], ['_e4'], ['_c16', '_c32'], ['', '_r2']],
  ds: [['', '_k3', '_k5'], ['', '_s2'], ['_c8', '_c16'], ['', '_se0.25']],
  cn: [['_k1', '_k3'], ['', '_s2'], ['_c8', '_c16', '_c32'], ['', '_r2']],
  rb: [['', '_s2'], ['_c16', '_c32']],
  bt: [['', '_s2'], ['_e4'], ['_c16', '_c64']],
  ba: [['', '_nre']],
  mp: [['_k3'], ['_s2']],
  nb: [['_o333333', '_o123401']],
};
const saneBlock = fc.constantFrom(...Object.keys(SANE_OPTIONS)).chain((type) => fc.tuple(...(SANE_OPTIONS[type] as string[][]).map((choices) => fc.constantFrom(...choices))).map((options) => `${type}${options.join('')}`));
const entry = fc.oneof({ weight: 8, arbitrary: saneBlock as fc.Arbitrary<unknown> }, { weight: 3, arbitrary: blockString }, { weight: 2, arbitrary: blockObject }, { weight: 2, arbitrary: graphEntry }, { weight: 1, arbitrary: wrongType });

const messyArchitecture = fc.record(
  {
    input: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('32x32x3', '8x8x1', '224x224x3', '1x1x1', '64x48x3') }, { weight: 1, arbitrary: fc.constantFrom('0x4x3', '4096x4096x3', 'big', '32x32', '1048577x1x1') }, { weight: 1, arbitrary: fc.tuple(numberLike, numberLike, numberLike).map(([h, w, c]) => `${h}x${w}x${c}`) }),
    classes: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue }),
    stem: fc.array(entry, { maxLength: 2 }),
    stages: fc.oneof({ weight: 8, arbitrary: fc.array(fc.array(entry, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }) as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.array(fc.array(entry, { maxLength: 1 }), { maxLength: 1 }) }, { weight: 1, arbitrary: wrongType }),
    head: fc.oneof(fc.constant(['gap', 'fc']), fc.array(entry, { maxLength: 2 })),
    act: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('relu', 'hswish', 'relu6') }, { weight: 1, arbitrary: fc.constant('bogus') }),
  },
  { requiredKeys: ['input', 'classes', 'stages'] },
);

/** An architecture that builds, from sane blocks, and its sizes at the limits now and then. */
const saneArchitecture = fc.record({
  input: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('32x32x3', '8x8x1', '224x224x3', '28x28x1') }, { weight: 1, arbitrary: fc.constantFrom('1x1x1', '4096x4096x3', '1048576x1x1', '3x3x1048576') }),
  classes: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 2, max: 1000 }) }, { weight: 1, arbitrary: fc.constantFrom(1, 1048576) }),
  stem: fc.array(saneBlock, { maxLength: 1 }),
  stages: fc.array(fc.array(saneBlock, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  head: fc.constant(['gap', 'fc']),
});
const architectureData = fc.oneof(saneArchitecture as fc.Arbitrary<unknown>, messyArchitecture);

/** Text of a file: the data as YAML or JSON, sometimes with a few characters changed. */
const fileText = <T>(data: fc.Arbitrary<T>) =>
  fc.record({
    data,
    json: fc.boolean(),
    edits: fc.oneof({ weight: 4, arbitrary: fc.constant([] as Array<[number, string]>) }, { weight: 1, arbitrary: fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ':', '[', '{', '&a', '*a', '"', '\t', '\n', '#', '- ')), { minLength: 1, maxLength: 2 }) }),
  }).map(({ data: d, json, edits }) => {
    let text = json ? JSON.stringify(d) : stringify(d);
    for (const [at, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + 1);
    }
    return { text, json };
  });

/* ---------- the surfaces ---------- */

export interface Workspace {
  dir: string;
  /** A finished run's store, to damage copies of. */
  store: string;
  /** A whole NAS-Bench-201 table, to damage copies of. */
  table: string;
  /** A dashboard serving the finished run (started by the first request that needs it). */
  dashboard?: Promise<Dashboard>;
  close(): void;
}

/** Scratch files the surfaces need; `store` must be a finished run's experiment.sqlite. */
export function workspace(store: string, table: string): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'procnas-fuzz-'));
  const ws: Workspace = {
    dir,
    store,
    table,
    close: () => {
      void ws.dashboard?.then((d) => d.close());
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return ws;
}

/** A request as sent, path and all (no client normalises it); an event stream counts once its headers come. */
function request(url: string, method: string, target: string): Promise<{ status: number; bytes: number }> {
  const { hostname, port: at } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port: at, path: target, method }, (res) => {
      let bytes = 0;
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        req.destroy();
        return resolve({ status: res.statusCode ?? 0, bytes });
      }
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a dashboard's URL may hold: its routes' words, numbers, traversal in several spellings, junk. */
const urlPart = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('runs', '0', '1', 'trials', 'compare', 'api', 'events', 'assets', 'chart.js', 'report.js', 'live.js', 'explorer.js', 'explorer', '', '..', '.', '%2e%2e', '%2f', '..%2f', '%00', 'experiment.sqlite', '-1', '99999999999999999999', 'x'.repeat(300)) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'/.%2e0a9=&-_~!$'), maxLength: 16 }) },
);
/** The dashboard's own routes with numbers in and out of range, so that the accepted side is tried too. */
const routeTarget = fc
  .tuple(fc.constantFrom('/', '/explorer', '/api/runs', '/runs/N', '/api/runs/N', '/runs/N/trials/M', '/runs/N/compare?a=M&b=K', '/assets/report.js'), fc.nat(3), fc.nat(12), fc.oneof(fc.nat(12), fc.constantFrom(-1, 1e21)))
  .map(([template, n, m, k]) => template.replace('N', String(n)).replace('M', String(m)).replace('K', String(k)));
const requestTarget = fc.oneof(routeTarget, fc
  .tuple(fc.array(urlPart, { minLength: 1, maxLength: 5 }), fc.option(fc.tuple(fc.constantFrom('a', 'b', 'x'), fc.oneof(optionText, urlPart), fc.constantFrom('a', 'b'), optionText), { nil: undefined }))
  .map(([parts, query]) => `/${parts.join('/')}${query ? `?${query[0]}=${query[1]}&${query[2]}=${query[3]}` : ''}`));

let counter = 0;
const fresh = (ws: Workspace, name: string): string => join(ws.dir, `${counter++}-${name}`);

const PRESETS = ['mobile-npu', 'edge-cpu', 'microcontroller', 'stm32f746', 'eyeriss'] as const;

export function surfaces(ws: Workspace): Array<Surface<never>> {
  const list: Array<Surface<any>> = [
    {
      name: 'architecture files',
      arbitrary: fc.tuple(fileText(architectureData), fc.constantFrom(...PRESETS), fc.constantFrom('inference', 'training'), fc.constantFrom(1, 8)),
      run: ([file, preset, mode, batch]: [{ text: string; json: boolean }, string, 'inference' | 'training', number]) => {
        const path = fresh(ws, file.json ? 'net.json' : 'net.yaml');
        writeFileSync(path, file.text);
        // As `procnas cost FILE -p PRESET -m MODE -b BATCH --json` does.
        const processor = resolveProcessor(preset);
        const report = estimateCost(lower(resolveArchitecture(path)), processor, { mode, batch, layers: true });
        const insane = nonFiniteFigure(report);
        if (insane) throw new Error(`cost command would refuse: ${insane}`);
        return [report.params, report.macs, report.dram.timeS, report.dram.energyJ, report.dram.powerW, report.latencyS, report.energyJ, ...report.layers.map((l) => l.latencyS)];
      },
    },
    {
      name: 'processor profiles',
      arbitrary: fc.tuple(
        fc.constantFrom(...PRESETS),
        fc.array(fc.tuple(fc.constantFrom('sram', 'weightSram', 'dtype', 'fusion', 'dram.bandwidth', 'dram.energy', 'dram.energy.read', 'dram.latency', 'dram.burst', 'dram.page', 'dram.banks', 'dram.rowCycle', 'dram.device', 'compute.peak', 'compute.macEnergy', 'compute.layerOverhead', 'compute.utilisation.conv', 'training.peak', 'sramEnergy', 'name', 'dram', 'flash', 'flash.size', 'flash.bandwidth', 'flash.energy', 'flash.executeInPlace'), fc.oneof(anyValue, fc.constantFrom('12.8GB/s', '1e-300B/s', '5 pJ/bit', 'fast', '1MiB', '0B', '2TMAC/s', '1e300J', 'lpddr4-3200-x32', undefined))), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
      ),
      run: ([preset, changes, json]: [string, Array<[string, unknown]>, boolean]) => {
        const data = JSON.parse(JSON.stringify(profileData(resolveProcessor(preset)))) as Record<string, unknown>;
        for (const [path, value] of changes) {
          const keys = path.split('.');
          let at: Record<string, unknown> = data;
          for (const key of keys.slice(0, -1)) {
            if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
            at = at[key] as Record<string, unknown>;
          }
          at[keys.at(-1) as string] = value;
        }
        const file = fresh(ws, json ? 'chip.json' : 'chip.yaml');
        writeFileSync(file, json ? JSON.stringify(data) : stringify(data));
        const processor = loadProcessorFile(file);
        const report = estimateCost(lower(resolveArchitecture('mobilenet_v2')), processor, { mode: 'inference', batch: 1 });
        const insane = nonFiniteFigure(report);
        if (insane) throw new Error(`cost command would refuse: ${insane}`);
        return [report.dram.timeS, report.dram.energyJ, report.dram.powerW, report.latencyS, report.energyJ];
      },
    },
    {
      name: 'search configurations',
      arbitrary: fileText(
        fc.dictionary(
          fc.constantFrom('strategy', 'stop', 'loss', 'workers', 'training', 'fidelity', 'seed', 'cost', 'space', 'confirm', 'evaluator', 'prune', 'initial', 'processor', 'dataset', 'nested', 'dnas', 'quantization', 'bogus'),
          fc.oneof(
            anyValue,
            fc.dictionary(
              fc.constantFrom('budget', 'maxEvals', 'patience', 'lambdaTime', 'lambdaEnergy', 'mode', 'batch', 'rungs', 'eta', 'epochs', 'lr', 'limit', 'kind', 'top', 'calibration', 'percentile', 'images', 'score', 'enabled', 'bogus'),
              anyValue,
              { maxKeys: 3 },
            ),
            // loss.budgets, a level further down.
            fc.record({ budgets: fc.oneof(anyValue, fc.dictionary(fc.constantFrom('peakSramBytes', 'flashBytes', 'params', 'dramTimeS', 'bogus'), anyValue, { maxKeys: 3 })) }),
          ),
          { maxKeys: 4 },
        ),
      ),
      run: (file: { text: string; json: boolean }) => {
        const path = fresh(ws, file.json ? 'search.json' : 'search.yaml');
        writeFileSync(path, file.text);
        // As `procnas search -c FILE` reads it: flags that were not given override nothing.
        const config = parseSearchConfig(mergeConfig(loadSearchConfigFile(path), { stop: { budget: undefined }, loss: { lambdaTime: undefined } }), path);
        return [config.stop.maxEvals ?? 0, config.loss.lambdaTime, config.loss.lambdaEnergy];
      },
    },
    {
      name: 'command-line values',
      arbitrary: fc.tuple(fc.constantFrom('positiveInt', 'nonNegativeInt', 'positiveNumber', 'fraction', 'nonNegativeNumber', 'inputShape', 'duration', 'sizeInt', 'port'), fc.oneof(fc.string({ maxLength: 12 }), optionText, fc.constantFrom('10m', '1.5h', '0s', '32x32x3', '0x1x1', '1e3', '99999999999999999999', ' 5', '5 ', '0x10'))),
      run: ([parser, text]: [string, string]) => {
        const parse = { positiveInt, nonNegativeInt, positiveNumber, fraction, nonNegativeNumber, duration, sizeInt, port, inputShape: (t: string) => Object.values(inputShape(t)) }[parser] as (t: string) => number | number[];
        return [parse(text)].flat();
      },
    },
    {
      name: 'dataset files',
      arbitrary: fc.tuple(
        fc.constantFrom('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
        fc.oneof(fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(30_000) }), fc.record({ kind: fc.constant('poke' as const), at: fc.nat(40), value: fc.nat(255) }), fc.record({ kind: fc.constant('empty' as const) })),
      ),
      run: ([name, damage]: [string, { kind: 'truncate'; at: number } | { kind: 'poke'; at: number; value: number } | { kind: 'empty' }]) => {
        const dir = fresh(ws, 'idx');
        mkdirSync(dir);
        writeHalvesIdx(dir);
        const file = join(dir, name);
        if (damage.kind === 'truncate') truncateSync(file, damage.at);
        else if (damage.kind === 'empty') writeFileSync(file, '');
        else {
          const bytes = readFileSync(file);
          if (damage.at < bytes.length) bytes[damage.at] = damage.value;
          writeFileSync(file, bytes);
        }
        const dataset = readIdxDataset(dir);
        return [dataset.classes, dataset.train.count, dataset.test.count, dataset.shape.h, dataset.shape.w, dataset.shape.c];
      },
    },
    {
      name: 'NAS-Bench-201 tables',
      arbitrary: fc.oneof(
        fc.record({ kind: fc.constant('json' as const), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.dictionary(fc.string(), fc.record({ cifar10: anyValue }), { maxKeys: 3 })) }),
        fc.record({ kind: fc.constant('edit' as const), entry: fc.nat(15_624), value: fc.oneof(anyValue, fc.record({ cifar10: anyValue })) }),
      ),
      run: (input: { kind: 'json'; value: unknown } | { kind: 'edit'; entry: number; value: unknown }) => {
        const file = fresh(ws, 'table.json');
        if (input.kind === 'json') writeFileSync(file, JSON.stringify(input.value) ?? 'undefined');
        else {
          const table = JSON.parse(readFileSync(ws.table, 'utf8')) as Record<string, unknown>;
          table[Object.keys(table)[input.entry] as string] = input.value;
          writeFileSync(file, JSON.stringify(table));
        }
        const evaluator = new Nb201TableEvaluator(new Nb201Space(), file);
        return [evaluator.size];
      },
    },
    {
      name: 'experiment stores',
      arbitrary: fc.tuple(
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(200_000) }),
          fc.record({ kind: fc.constant('bytes' as const), at: fc.array(fc.nat(200_000), { minLength: 1, maxLength: 8 }), value: fc.nat(255) }),
          fc.record({
            kind: fc.constant('sql' as const),
            statement: fc.constantFrom(
              'DROP TABLE trials',
              'DROP TABLE meta',
              'DROP TABLE repeats',
              "DELETE FROM meta WHERE key = 'config'",
              "DELETE FROM meta WHERE key = 'processor'",
              "UPDATE meta SET value = '{' WHERE key = 'initial'",
              "UPDATE meta SET value = '[]' WHERE key = 'config'",
              "UPDATE meta SET value = '{\"strategy\": 5}' WHERE key = 'config'",
              "UPDATE trials SET loss = 'abc' WHERE idx = 1",
              'UPDATE trials SET dram_time_s = NULL WHERE idx = 0',
              "UPDATE trials SET architecture = '[]' WHERE idx = 2",
              'UPDATE trials SET idx = idx + 10 WHERE idx = 3',
              'DELETE FROM trials WHERE idx = 0',
              'DELETE FROM trials',
              'PRAGMA user_version = 99',
              "UPDATE trials SET key = 'x'",
              'UPDATE trials SET rung = -1',
              // A parent's weights (weight inheritance): cut short, a garbage header, bytes left over.
              "INSERT INTO parents (name, weights) VALUES ('p', x'0102')",
              "INSERT INTO parents (name, weights) VALUES ('p', x'0200000030')",
              "INSERT INTO parents (name, weights) VALUES ('p', x'0b0000005b5b2277222c5b325d5d5d0000803f')",
              "INSERT INTO parents (name, weights) VALUES ('p', x'0b0000005b5b2277222c5b325d5d5d0000803f0000803f')",
              "INSERT INTO parents (name, weights) VALUES ('p', x'0b0000005b5b2277222c5b325d5d5d0000803f0000803f00')",
            ),
          }),
        ),
        fc.constantFrom('read', 'resume'),
      ),
      run: ([damage, access]: [{ kind: 'truncate'; at: number } | { kind: 'bytes'; at: number[]; value: number } | { kind: 'sql'; statement: string }, 'read' | 'resume']) => {
        const file = fresh(ws, 'experiment.sqlite');
        copyFileSync(ws.store, file);
        if (damage.kind === 'truncate') truncateSync(file, damage.at);
        else if (damage.kind === 'bytes') {
          const bytes = readFileSync(file);
          for (const at of damage.at) if (at < bytes.length) bytes[at] = damage.value;
          writeFileSync(file, bytes);
        } else {
          const db = new Database(file);
          try {
            db.exec(damage.statement);
          } catch {
            // A statement the damaged layout refuses is no damage.
          }
          db.close();
        }
        // As `procnas report` (read) and `procnas search --resume` (resume) open it, then read it back.
        const store = new ExperimentStore(file, access);
        try {
          const trials = store.trials();
          store.repeats();
          store.supernetEpochs();
          store.getMeta('config');
          const parent = Object.values(store.parent('p') ?? {}).flatMap((w) => [...w.values]);
          return [trials.length, ...trials.flatMap((t) => [t.cost.dramTimeS, t.cost.dramEnergyJ, t.cost.params]), ...parent];
        } finally {
          store.close();
        }
      },
    },
    {
      name: 'dashboard requests',
      arbitrary: fc.tuple(fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'DELETE'), requestTarget),
      run: async ([method, target]: [string, string]) => {
        ws.dashboard ??= startDashboard({ dirs: [dirname(ws.store)], port: 0 });
        const { status, bytes } = await request((await ws.dashboard).url, method, target);
        if (status === 200) return [bytes];
        // Not a route, not a method it answers: the server's refusals. Anything else (500) is a bug.
        if (status === 404 || status === 405) throw new ConfigError(`${method} ${target}: answered ${status}`);
        throw new Error(`${method} ${target}: answered ${status}`);
      },
    },
    {
      name: 'output paths',
      arbitrary: fc.tuple(fc.array(fc.constantFrom('run', 'a', '..', '.', 'file', 'x'.repeat(300), 'b c', 'ü', ''), { minLength: 1, maxLength: 4 }), fc.constantFrom('scratch', '/proc/procnas-fuzz', '/dev/null', '/proc/self/procnas-fuzz')),
      run: ([parts, base]: [string[], string]) => {
        // The scratch folder sits two levels down, and at most one ".." climbs: every folder made
        // and every file written stays inside the workspace. Outside it (/proc, /dev/null) a path
        // only descends, and must be refused before anything is written.
        const root = join(fresh(ws, 'out'), 'deep');
        mkdirSync(root, { recursive: true });
        writeFileSync(join(root, 'file'), 'x');
        let climbs = 0;
        const kept = parts.filter((p) => p !== '..' || (base === 'scratch' && climbs++ < 1));
        const dir = join(base === 'scratch' ? root : base, ...kept);
        if (!resolve(dir).startsWith(`${ws.dir}/`) && base === 'scratch') throw new Error(`the fuzz case left its workspace: ${dir}`);
        makeFolder(dir);
        if (!resolve(dir).startsWith(`${ws.dir}/`)) throw new Error(`made a folder outside the workspace: ${dir}`);
        writeFileAtomic(join(dir, 'best.json'), '{}\n');
        return [readFileSync(join(dir, 'best.json')).length];
      },
    },
  ];
  return list as Array<Surface<never>>;
}
