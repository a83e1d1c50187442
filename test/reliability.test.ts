/**
 * Issue 14: bad input of every kind gets one clear line and status 2; no store is ever silently
 * lost, replaced or written by two processes; a result is written whole or not at all.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs, { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isBadInput } from '../src/cli/errors.js';
import { ConfigError, loadSearchConfigFile, mergeConfig, parseSearchConfig } from '../src/experiment/config.js';
import { openRunFolder } from '../src/experiment/folder.js';
import { ExperimentStore, STORE_VERSION, StoreError } from '../src/experiment/store.js';
import { OutputError, makeFolder, parseDataText, readDataFile, readTextFile, writeFileAtomic } from '../src/files/index.js';
import { Nb201TableEvaluator, TableError } from '../src/search/index.js';
import { estimateCost, nonFiniteFigure } from '../src/cost/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { ArchitectureError, Nb201Space, loadArchitectureFile, lower, parseArchitecture } from '../src/space/index.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../shared/data/nb201/accuracy.json', import.meta.url));
const DENSE = 'nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

function procnas(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'procnas-rel-'));
const hash = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A finished table search of `evals` trials in a new folder under `root`. */
function tableRun(root: string, name: string, evals = 4): string {
  const out = join(root, name);
  const run = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', String(evals), '--out', out, '--json');
  assert.equal(run.code, 0, run.stderr);
  return out;
}

describe('reading the user\'s files', () => {
  it('refuses devices, folders, FIFOs and oversized files at once, without reading them', () => {
    const dir = scratch();
    assert.throws(() => readTextFile('/dev/zero'), /is not a regular file/);
    assert.throws(() => readTextFile(dir), /is a folder, not a file/);
    const fifo = join(dir, 'fifo.yaml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    // Opening a FIFO for reading would block until a writer comes: it must not be opened.
    assert.throws(() => readTextFile(fifo), /is not a regular file/);
    const big = join(dir, 'big.yaml');
    writeFileSync(big, 'x'.repeat(2000));
    assert.throws(() => readTextFile(big, 1000), /2000 bytes, more than the 1000 bytes procnas reads/);
    assert.equal(readTextFile(big, 2000).length, 2000);
  });

  it('refuses a YAML alias cycle and an alias bomb, and names the syntax error of bad JSON', () => {
    assert.throws(() => parseDataText('a: &a [*a]\n', 'c.yaml'), /a YAML alias refers to a node that contains it/);
    assert.throws(() => parseDataText('stop: &s {budget: 1, again: *s}\n', 'c.yaml'), /cycle/);
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    assert.throws(() => parseDataText(`${lines.join('\n')}\n`, 'bomb.yaml'), /not valid YAML/);
    assert.throws(() => parseDataText('{"a": ', 'c.json'), /^Error: not valid JSON: /);
    // Shared (acyclic) aliases are fine.
    assert.deepEqual(parseDataText('a: &x {k: 1}\nb: *x\n', 'c.yaml'), { a: { k: 1 }, b: { k: 1 } });
  });

  it('an architecture, a profile or a configuration that is a device is bad input naming the file', () => {
    assert.throws(() => loadArchitectureFile('/dev/zero'), (e: Error) => e instanceof ArchitectureError && /^\/dev\/zero: invalid architecture: cannot read the file: is not a regular file$/.test(e.message));
    const dir = scratch();
    const file = join(dir, 'c.yaml');
    writeFileSync(file, '- 1\n- 2\n');
    assert.throws(() => loadSearchConfigFile(file), (e: Error) => e instanceof ConfigError && /c\.yaml: a search configuration is a mapping of keys .*not a list/.test(e.message));
    writeFileSync(file, '# nothing yet\n');
    assert.deepEqual(loadSearchConfigFile(file), {});
    assert.throws(() => readDataFile(join(dir, 'missing.yaml')), /^Error: no such file$/);
  });

  it('a configuration\'s stop: or loss: that is not a mapping is refused, not replaced by the defaults', () => {
    const flags = { stop: { budget: undefined, maxEvals: undefined }, loss: { lambdaTime: undefined } };
    for (const [key, value] of [['stop', 5], ['loss', [1]], ['stop', 'soon']] as const) {
      assert.throws(
        () => parseSearchConfig(mergeConfig({ [key]: value }, flags), 'search.yaml'),
        (e: Error) => e instanceof ConfigError && new RegExp(`^search\\.yaml: invalid search configuration: ${key}: `).test(e.message),
        `${key}: ${JSON.stringify(value)}`,
      );
    }
    // A flag that is given still wins over the file.
    assert.equal(parseSearchConfig(mergeConfig({ stop: { maxEvals: 3 } }, { stop: { maxEvals: 7 } })).stop.maxEvals, 7);
  });
});

describe('errors: bad input or a bug', () => {
  it('only errors procnas raised about the input are bad input; a RangeError (stack overflow, string length) is a bug', () => {
    assert.equal(isBadInput(new TableError('t')), true);
    assert.equal(isBadInput(new StoreError('s')), true);
    assert.equal(isBadInput(new OutputError('o')), true);
    assert.equal(isBadInput(new RangeError('Maximum call stack size exceeded')), false);
    assert.equal(isBadInput(new TypeError('x is undefined')), false);
  });

  it('the first line of a multi-problem error names the file, the field and the problem on its own', () => {
    const dir = scratch();
    const arch = join(dir, 'bad.yaml');
    writeFileSync(arch, 'input: 32x32x3\nclasses: 10\nstages: [[ir_k3_c16, {type: ir, kernel: -1}, {type: ir, expand: -2}]]\nhead: [gap, fc]\n');
    const run = procnas('cost', arch);
    assert.equal(run.code, 2, run.stderr);
    const [first, ...rest] = run.stderr.trimEnd().split('\n');
    assert.match(first ?? '', /^procnas: .*bad\.yaml: invalid architecture: stages\[0\]\[1\]\.kernel: .* \(and 1 more below\)$/);
    assert.equal(rest.length, 1, run.stderr);
    assert.match(rest[0] ?? '', /^ {2}stages\[0\]\[2\]\.expand: /);
  });

  it('output cut short by its reader (procnas cost ... | head) ends quietly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'cost', 'mobilenet_v2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    assert.equal(stderr, '', 'nothing on stderr');
    assert.equal(code, 0, stderr);
  });
});

describe('sizes at the limits', () => {
  it('a user graph of 12,000 chained operations is costed (no recursion to overflow); a million blocks are refused by count, before anything is built', () => {
    const nodes = Array.from({ length: 12_000 }, (_, i) => ({ id: `n${i}`, op: i % 3 === 2 ? 'add' : 'relu', inputs: i % 3 === 2 ? [`n${i - 1}`, `n${i - 2}`] : [i === 0 ? 'in' : `n${i - 1}`] }));
    const architecture = parseArchitecture({ input: '8x8x3', classes: 10, stem: ['cn_k3_c8'], stages: [[{ graph: { nodes, output: 'n11999' } }]], head: ['gap', 'fc'] });
    const report = estimateCost(lower(architecture), resolveProcessor('mobile-npu'), { mode: 'training', batch: 2 });
    assert.equal(nonFiniteFigure(report), undefined);
    assert.ok(report.dram.timeS > 0, 'costed');
    assert.throws(() => parseArchitecture({ input: '32x32x3', classes: 10, stages: [['ba_nre', 'cn_r1048576_k1_c4']], head: ['gap', 'fc'] }, 'r.yaml'), /^ArchitectureError: r\.yaml: invalid architecture: stages: 1048579 blocks \(repeats counted\), more than the 10000/);
  });

  it('--max-evals is exact with more workers than evaluations', () => {
    const root = scratch();
    const out = join(root, 'run');
    const run = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '5', '--workers', '8', '--out', out, '--json');
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { evaluations: number }).evaluations, 5);
    const store = new ExperimentStore(join(out, 'experiment.sqlite'), 'read');
    assert.equal(store.count(), 5);
    store.close();
  });

  it('--workers beyond the limits is refused before anything runs', () => {
    const run = procnas('search', '--initial', DENSE, '--table', TABLE, '--workers', '1000000000', '--out', join(scratch(), 'run'));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^procnas: flags: invalid search configuration: workers: Too big: expected number to be <=1024\n$/);
  });
});

describe('the NAS-Bench-201 table', () => {
  it('every problem with it is a TableError naming the file and what is wrong', () => {
    const dir = scratch();
    const space = new Nb201Space();
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing.json', undefined, /missing\.json: cannot read the NAS-Bench-201 table: no such file/],
      ['garbage.json', 'not json at all', /garbage\.json: cannot read the NAS-Bench-201 table: not valid JSON/],
      ['list.json', '[1, 2]', /list\.json: the NAS-Bench-201 table is a JSON object keyed by architecture string.*not a list/],
      ['null.json', 'null', /null\.json: the NAS-Bench-201 table is .*not null/],
      ['entry.json', '{"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|": null}', /entry\.json: "\|none~0\|.*": cifar10 accuracy must be a percentage from 0 to 100, got null/],
      ['range.json', '{"x": {"cifar10": 140}}', /range\.json: "x": cifar10 accuracy must be a percentage from 0 to 100, got 140/],
      ['empty.json', '{}', /empty\.json: the NAS-Bench-201 table lacks 15625 of the 15625 cells, e\.g\. "\|none~0\|/],
    ];
    for (const [name, text, expected] of cases) {
      if (text !== undefined) writeFileSync(join(dir, name), text);
      assert.throws(() => new Nb201TableEvaluator(space, join(dir, name)), (e: Error) => e instanceof TableError && expected.test(e.message), name);
    }
    assert.throws(() => new Nb201TableEvaluator(space, dir), (e: Error) => e instanceof TableError && /is a folder, not a file/.test(e.message));
    // One cell short of the whole space.
    const whole = JSON.parse(readFileSync(TABLE, 'utf8')) as Record<string, unknown>;
    const dropped = Object.keys(whole)[7] as string;
    delete whole[dropped];
    writeFileSync(join(dir, 'short.json'), JSON.stringify(whole));
    assert.throws(() => new Nb201TableEvaluator(space, join(dir, 'short.json')), (e: Error) => e instanceof TableError && e.message.includes(`lacks 1 of the 15625 cells, e.g. "${dropped}"`));
  });

  it('on the command line: status 2, one line, and no folder left behind', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'empty.json'), '{}');
    const out = join(dir, 'run');
    const run = procnas('search', '--initial', DENSE, '--table', join(dir, 'empty.json'), '--out', out, '--max-evals', '3');
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.equal(existsSync(out), false, 'a search refused before its first trial leaves no folder');
  });
});

describe('writing results', () => {
  it('makes folders level by level, and says why it cannot (under /proc, through a file) at once', () => {
    const dir = scratch();
    makeFolder(join(dir, 'a', 'b', 'c'));
    assert.ok(fs.statSync(join(dir, 'a', 'b', 'c')).isDirectory(), 'made');
    writeFileSync(join(dir, 'file'), 'x');
    assert.throws(() => makeFolder(join(dir, 'file', 'sub')), (e: Error) => e instanceof OutputError && /a part of the path is a file, not a folder \(ENOTDIR\)/.test(e.message));
    // Node's recursive mkdir loops forever here; this must return.
    assert.throws(() => makeFolder('/proc/procnas-test/x'), (e: Error) => e instanceof OutputError && /^\/proc\/procnas-test\/x: cannot make the folder/.test(e.message));
  });

  it('a failed write (disk full) leaves the old file whole and no temporary file', () => {
    const dir = scratch();
    const file = join(dir, 'best.json');
    writeFileAtomic(file, 'old contents\n');
    const writeSync = fs.writeSync;
    let calls = 0;
    // The disk fills after the first chunk of the new file.
    (fs as { writeSync: unknown }).writeSync = (...args: Parameters<typeof fs.writeSync>) => {
      if (calls++ > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (writeSync as (...a: unknown[]) => number)(args[0], args[1], args[2], 3);
    };
    syncBuiltinESMExports();
    try {
      assert.throws(() => writeFileAtomic(file, 'new contents, longer than three bytes\n'), (e: Error) => e instanceof OutputError && e.message === `${file}: cannot write: the disk is full (ENOSPC)`);
    } finally {
      (fs as { writeSync: unknown }).writeSync = writeSync;
      syncBuiltinESMExports();
    }
    assert.equal(readFileSync(file, 'utf8'), 'old contents\n');
    assert.deepEqual(readdirSync(dir), ['best.json']);
    assert.throws(() => writeFileAtomic(dir, 'x'), (e: Error) => e instanceof OutputError && /it is a folder \(EISDIR\)/.test(e.message));
  });

  it('search --out under /proc or through a file: status 2 at once, one line', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'file'), 'x');
    for (const out of ['/proc/procnas-test', join(dir, 'file', 'run')]) {
      const run = procnas('search', '--initial', DENSE, '--table', TABLE, '--out', out, '--max-evals', '3');
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^procnas: .*cannot make the folder: .*\n$/);
    }
  });
});

describe('the experiment store', () => {
  /** A store damaged by `damage`, in a copy of a finished run; resume and report must refuse it, untouched. */
  function damagedRun(root: string, source: string, name: string, damage: (file: string) => void): string {
    const out = join(root, name);
    fs.cpSync(source, out, { recursive: true });
    damage(join(out, 'experiment.sqlite'));
    return out;
  }

  it('resume and report refuse a store that is empty, not SQLite, damaged, edited or newer, and leave it as it was', () => {
    const root = scratch();
    const source = tableRun(root, 'source');
    const sql = (statement: string) => (file: string) => {
      const db = new Database(file);
      db.exec(statement);
      db.close();
    };
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['empty', (f) => writeFileSync(f, ''), /the experiment store is empty \(0 bytes\)/],
      ['text', (f) => writeFileSync(f, 'not a database at all, but long enough to have a header'), /is not a SQLite database/],
      ['truncated', (f) => fs.truncateSync(f, 1024 + 512), /damaged|malformed|not a database/],
      ['no-config', sql("DELETE FROM meta WHERE key = 'config'"), /holds no search configuration/],
      ['no-trials', sql('DROP TABLE trials'), /has no trials table/],
      ['gap', sql('DELETE FROM trials WHERE idx = 1'), /trials are not numbered 0 to 2 \(found 0 to 3\)/],
      ['bad-row', sql("UPDATE trials SET architecture = '{broken' WHERE idx = 2"), /trial 2's architecture in the experiment store is damaged/],
      ['bad-meta', sql("UPDATE meta SET value = '{broken' WHERE key = 'config'"), /the experiment store's config is damaged/],
      ['newer', sql(`PRAGMA user_version = ${STORE_VERSION + 1}`), new RegExp(`of version ${STORE_VERSION + 1}, written by a newer procnas`)],
    ];
    for (const [name, damage, expected] of cases) {
      const out = damagedRun(root, source, name, damage);
      const before = hash(join(out, 'experiment.sqlite'));
      for (const args of [['search', '--resume', out, '--max-evals', '6'], ['report', out, '--out', join(root, `${name}.html`)]]) {
        const run = procnas(...args);
        assert.equal(run.code, 2, `${name} ${args[0]}: ${run.stderr}`);
        assert.match(run.stderr.split('\n')[0] ?? '', expected, `${name} ${args[0]}`);
        assert.match(run.stderr, /^procnas: .*experiment\.sqlite: /, `${name}: names the file`);
      }
      assert.equal(hash(join(out, 'experiment.sqlite')), before, `${name}: the store is left as it was`);
    }
  });

  it('report reads a run without writing to its store', () => {
    const root = scratch();
    const out = tableRun(root, 'run');
    const file = join(out, 'experiment.sqlite');
    const before = hash(file);
    const mtime = fs.statSync(file).mtimeMs;
    const store = new ExperimentStore(file, 'read');
    assert.equal(store.count(), 4);
    assert.throws(() => store.setMeta('x', 1), (e: Error) => e instanceof StoreError && /readonly|read-only/i.test(e.message));
    store.close();
    const run = procnas('report', out, '--out', join(root, 'r.html'));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(hash(file), before);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
  });

  it('an old store (version 0, before rungs) is read in memory, migrated, and left as it was', () => {
    const dir = scratch();
    const file = join(dir, 'experiment.sqlite');
    const db = new Database(file);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE trials (idx INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, notation TEXT NOT NULL, architecture TEXT NOT NULL, status TEXT NOT NULL,
        error REAL, loss REAL, reason TEXT, params INTEGER NOT NULL, macs INTEGER NOT NULL, latency_s REAL NOT NULL, energy_j REAL NOT NULL,
        dram_time_s REAL NOT NULL, dram_energy_j REAL NOT NULL, dram_bytes INTEGER NOT NULL, evaluation_s REAL NOT NULL, seed INTEGER NOT NULL, finished_at TEXT NOT NULL);`);
    db.prepare('INSERT INTO meta VALUES (?, ?)').run('config', JSON.stringify({}));
    const architecture = JSON.stringify({ input: '8x8x3', classes: 10, stem: ['cn_k3_c8'], stages: [['ir_k3_c8']], head: ['gap', 'fc'] });
    db.prepare('INSERT INTO trials VALUES (0, ?, ?, ?, ?, 0.1, 0.2, NULL, 10, 20, 0.001, 0.002, 0.003, 0.004, 50, 1.5, 0, ?)').run('k', 'ir_k3_c8', architecture, 'done', 'now');
    db.close();
    const before = hash(file);
    const store = new ExperimentStore(file, 'read');
    const [trial] = store.trials();
    assert.equal(trial?.key, 'k');
    assert.equal(trial?.rung, undefined);
    assert.equal(trial?.inherited, undefined);
    // Deployed memory was not costed then: not a number, rather than a made-up one.
    assert.ok(Number.isNaN(trial?.cost.peakActivationBytes) && Number.isNaN(trial?.cost.storedWeightBytes));
    assert.equal(trial?.cost.dramBytes, 50);
    store.close();
    assert.equal(hash(file), before);
  });

  it('a new search starts only in a new or empty folder, and never replaces a store that holds trials', () => {
    const root = scratch();
    const out = tableRun(root, 'run', 3);
    const before = hash(join(out, 'experiment.sqlite'));
    const again = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '3', '--out', out);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /already holds an experiment \(3 trials\): resume it with --resume/);
    assert.equal(hash(join(out, 'experiment.sqlite')), before);
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const busy = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '3', '--out', other);
    assert.equal(busy.code, 2, busy.stderr);
    assert.match(busy.stderr, /other is not empty \(it holds notes\.txt\): a new search starts in a new or empty folder/);
    assert.deepEqual(readdirSync(other), ['notes.txt']);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    assert.equal(procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '2', '--out', empty, '--json').code, 0);
    // A search killed between creating its store and writing it leaves 0 bytes: nothing to keep.
    const cut = join(root, 'cut');
    mkdirSync(cut);
    writeFileSync(join(cut, 'experiment.sqlite'), '');
    const restarted = procnas('search', '--initial', DENSE, '--table', TABLE, '--max-evals', '2', '--out', cut, '--json');
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal((JSON.parse(restarted.stdout) as { evaluations: number }).evaluations, 2);
    // Resuming such a folder is still refused: there is nothing to resume.
    const cutAgain = join(root, 'cut-again');
    mkdirSync(cutAgain);
    writeFileSync(join(cutAgain, 'experiment.sqlite'), '');
    const resumed = procnas('search', '--resume', cutAgain);
    assert.equal(resumed.code, 2, resumed.stderr);
    assert.match(resumed.stderr, /the experiment store is empty \(0 bytes\)/);
    const missing = procnas('search', '--resume', join(root, 'nowhere'));
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /nowhere: no such folder: nothing to resume/);
  });

  it('a lock left by a killed process is taken over, and released on close', () => {
    const root = scratch();
    const out = join(root, 'run');
    // A lock naming a process that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.procnas.lock'), `${dead.stdout}\n`);
    const taken = openRunFolder(out, false);
    assert.equal(readFileSync(join(out, '.procnas.lock'), 'utf8').trim(), String(process.pid));
    taken.close();
    assert.equal(existsSync(join(out, '.procnas.lock')), false, 'released');
    // A lock without a pid yet is one another process is making: refused while fresh, taken when old.
    writeFileSync(join(out, '.procnas.lock'), '');
    assert.throws(() => openRunFolder(out, false), (e: Error) => e instanceof StoreError && /another procnas is starting a search in this folder/.test(e.message));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(join(out, '.procnas.lock'), old, old);
    openRunFolder(out, false).close();
  });

  it('two resumes of one folder at once: the second exits 2 naming the first, which goes on', async () => {
    const root = scratch();
    const out = tableRun(root, 'run', 3);
    const args = ['--import', 'tsx', MAIN, 'search', '--resume', out, '--max-evals', '3000', '--json'];
    const first = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const firstDone = new Promise<number | null>((done) => first.on('close', done));
    // Wait until the first holds the lock.
    const lock = join(out, '.procnas.lock');
    for (let i = 0; i < 600 && !(existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(first.pid)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(lock, 'utf8').trim(), String(first.pid), 'the first resume holds the lock');
    const second = procnas('search', '--resume', out, '--max-evals', '3000');
    first.kill('SIGKILL');
    await firstDone;
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`^procnas: .*run: another procnas \\(pid ${first.pid}\\) is running a search in this folder`));
    // The killed first left its lock; a later resume takes it over and goes on from what it stored.
    const count = (): number => {
      const store = new ExperimentStore(join(out, 'experiment.sqlite'), 'read');
      const n = store.count();
      store.close();
      return n;
    };
    const stored = count();
    assert.ok(stored >= 3, `the first stored its trials (${stored})`);
    const third = procnas('search', '--resume', out, '--max-evals', String(stored + 2), '--json');
    assert.equal(third.code, 0, third.stderr);
    assert.equal(count(), stored + 2);
  });
});

describe('report on a damaged run folder', () => {
  it('a corrupt summary.json or final.json is bad input naming the file', () => {
    const root = scratch();
    const out = tableRun(root, 'run', 3);
    writeFileSync(join(out, 'summary.json'), '{"stoppedBecause": ');
    const bad = procnas('report', out, '--out', join(root, 'r.html'));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^procnas: .*summary\.json: cannot read this result of the run: not valid JSON/);
    writeFileSync(join(out, 'summary.json'), '{}');
    writeFileSync(join(out, 'final.json'), '[1]');
    const list = procnas('report', out, '--out', join(root, 'r.html'));
    assert.equal(list.code, 2, list.stderr);
    assert.match(list.stderr, /final\.json: cannot read this result of the run: not a JSON object/);
  });
});
