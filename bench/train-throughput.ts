/**
 * Training throughput, procnas against PyTorch in the same run: the MobileNetV2-like CIFAR net
 * of shared/notes/engine.md, batch 64, 32x32x3, SGD momentum, random data. procnas runs its real
 * `train()` on the WASM backend, once alone and as two trainings at once (two processes, the
 * way a search uses both cores); PyTorch (Debian's python3-torch, /usr/bin/python3) with one and
 * with two threads. Medians over rounds; ratios printed last.
 *
 *   node --import tsx bench/train-throughput.ts [--steps 20] [--rounds 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' } } });
const steps = values.steps;
const rounds = values.rounds;
const worker = fileURLToPath(new URL('./train-worker.ts', import.meta.url));
const peer = fileURLToPath(new URL('./peer_train.py', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface WorkerResult {
  params: number;
  rates: number[];
}

function runWorker(): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, steps, rounds], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerResult) : reject(new Error(`worker exited with ${code}`))));
  });
}

const one = await runWorker();
const two = await Promise.all([runWorker(), runWorker()]);
const procnasOne = median(one.rates);
// Two at once: the sum of the two trainings' medians.
const procnasTwo = two.reduce((a, r) => a + median(r.rates), 0);

const rows: Array<[string, number]> = [
  ['procnas, 1 training (WASM, 1 thread)', procnasOne],
  ['procnas, 2 trainings at once (sum)', procnasTwo],
];
let torchOne: number | undefined;
let torchTwo: number | undefined;
const python = '/usr/bin/python3';
if (existsSync(python)) {
  const runs = [1, 2].map((threads) => spawnSync(python, [peer, String(threads), steps, rounds], { encoding: 'utf8' }));
  if (runs.every((r) => r.status === 0)) {
    const [a, b] = runs.map((r) => JSON.parse(r.stdout) as { params: number; imagesPerSecond: number; torch: string });
    if (a!.params !== one.params) throw new Error(`the PyTorch net has ${a!.params} parameters, procnas's ${one.params}: not the same network`);
    torchOne = a!.imagesPerSecond;
    torchTwo = b!.imagesPerSecond;
    rows.push([`PyTorch ${a!.torch}, 1 thread`, torchOne], [`PyTorch ${b!.torch}, 2 threads`, torchTwo]);
  } else {
    console.log(`peer skipped: PyTorch did not run (${runs.find((r) => r.status !== 0)?.stderr.trim().split('\n').pop()})`);
  }
} else {
  console.log(`peer skipped: ${python} not found (apt-get install python3-torch)`);
}

console.log(`MobileNetV2-like CIFAR net, ${one.params} parameters, batch 64, ${steps} steps x ${rounds} rounds, images/s (median)`);
for (const [name, rate] of rows) console.log(`  ${name.padEnd(40)} ${rate.toFixed(1).padStart(8)}`);
if (torchOne !== undefined && torchTwo !== undefined) {
  console.log(`  ratio procnas(1) / PyTorch(1 thread)      ${(procnasOne / torchOne).toFixed(2)}`);
  console.log(`  ratio procnas(2) / PyTorch(1 thread)      ${(procnasTwo / torchOne).toFixed(2)}`);
  console.log(`  ratio procnas(2) / PyTorch(2 threads)     ${(procnasTwo / torchTwo).toFixed(2)}`);
}
