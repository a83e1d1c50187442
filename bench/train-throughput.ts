/**
 * Training throughput, procnas against PyTorch in the same run, on two nets: the MobileNetV2-like
 * CIFAR net of shared/notes/engine.md (32x32x3) and the main job's default initial, mnist-mbconv
 * (28x28x1); batch 64, SGD momentum, random data. procnas runs its real `train()` on the WASM
 * backend, once alone and as two trainings at once (two processes; a search runs its two on
 * worker threads of one process), with each build of its kernels this machine has (host, when built, and wasm); PyTorch
 * (Debian's python3-torch, /usr/bin/python3) with one thread, two threads, and as two one-thread
 * trainings at once. Each run's median over rounds; each figure the median over repeats, all
 * configurations interleaved; ratios of procnas's default build (host when built) against
 * PyTorch's one thread and its best on two cores, printed after each net, as a ratio of the
 * medians and as the median of each repeat's ratio (procnas against the peer beside it).
 *
 * PyTorch runs with glibc's malloc told to keep freed memory (GLIBC_TUNABLES below), as PyTorch's
 * CPU performance guide advises (a caching allocator). Without it every activation tensor is a
 * fresh mmap whose pages fault in at first touch, which on a virtual machine made its training
 * 6x slower (55 against 348 images/s on the CIFAR net here): a peer handicapped by its
 * allocator, not a fair one.
 *
 *   node --import tsx bench/train-throughput.ts [--steps 20] [--rounds 3] [--repeats 3] [--nets cifar,mnist]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    repeats: { type: 'string', default: '3' },
    nets: { type: 'string', default: 'cifar,mnist' },
  },
});
const repeats = Number(values.repeats);
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
  kernels: 'host' | 'wasm';
  params: number;
  rates: number[];
}

function runWorker(net: string, kernels?: 'wasm'): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const env = kernels ? { ...process.env, PROCNAS_KERNELS: kernels } : process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', worker, steps, rounds, net], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerResult) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** glibc malloc keeps what is freed for reuse: no mmap and page faults per tensor (see above). */
const PEER_ENV = { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=17179869184' };
const NET_NAMES: Record<string, string> = { cifar: 'MobileNetV2-like CIFAR net', mnist: 'mnist-mbconv (the main job\'s initial)' };
const python = '/usr/bin/python3';

interface PeerResult {
  params: number;
  imagesPerSecond: number;
  torch: string;
}

/** One PyTorch training, or why it did not run. */
function runPeer(net: string, threads: number): Promise<PeerResult | string> {
  return new Promise((resolve) => {
    const child = spawn(python, [peer, String(threads), steps, rounds, net], { stdio: ['ignore', 'pipe', 'pipe'], env: PEER_ENV });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve(code === 0 ? (JSON.parse(out) as PeerResult) : (err.trim().split('\n').pop() ?? `exit ${code}`)));
  });
}

/** Two one-thread PyTorch trainings at once, as procnas's two: the sum of their rates. */
async function runPeerPair(net: string): Promise<number | string> {
  const [a, b] = await Promise.all([runPeer(net, 1), runPeer(net, 1)]);
  return typeof a === 'string' ? a : typeof b === 'string' ? b : a.imagesPerSecond + b.imagesPerSecond;
}

const hasPython = existsSync(python);
if (!hasPython) console.log(`peer skipped: ${python} not found (apt-get install python3-torch)`);

for (const net of values.nets.split(',')) {
  if (!NET_NAMES[net]) throw new Error(`--nets: unknown net ${net} (cifar, mnist)`);
  // Every configuration runs once per repeat, interleaved, so that the machine's drift (shared,
  // noisy) falls on all of them alike; each figure is the median over repeats.
  const samples = new Map<string, number[]>();
  const add = (name: string, rate: number): void => void samples.set(name, [...(samples.get(name) ?? []), rate]);
  let params = 0;
  let build = 'wasm';
  let torch: string | undefined;
  let peerFailure: string | undefined;
  for (let repeat = 0; repeat < repeats; repeat++) {
    const one = await runWorker(net);
    params = one.params;
    build = one.kernels;
    add(`procnas (${build} kernels), 1 training`, median(one.rates));
    if (hasPython && !peerFailure) {
      const a = await runPeer(net, 1);
      if (typeof a === 'string') peerFailure = a;
      else {
        if (a.params !== params) throw new Error(`the PyTorch ${net} net has ${a.params} parameters, procnas's ${params}: not the same network`);
        torch = a.torch;
        add('PyTorch, 1 thread', a.imagesPerSecond);
      }
    }
    const two = await Promise.all([runWorker(net), runWorker(net)]);
    // Two at once: the sum of the two trainings' medians.
    add(`procnas (${build} kernels), 2 trainings at once`, two.reduce((a, r) => a + median(r.rates), 0));
    if (hasPython && !peerFailure) {
      const b = await runPeer(net, 2);
      if (typeof b === 'string') peerFailure = b;
      else add('PyTorch, 2 threads', b.imagesPerSecond);
      const pair = await runPeerPair(net);
      if (typeof pair === 'string') peerFailure = pair;
      else add('PyTorch, 2 trainings at once (1 thread each)', pair);
    }
    if (build === 'host') {
      // The WebAssembly build too: what runs where clang was not there at install.
      add('procnas (wasm kernels), 1 training', median((await runWorker(net, 'wasm')).rates));
      const wasmTwo = await Promise.all([runWorker(net, 'wasm'), runWorker(net, 'wasm')]);
      add('procnas (wasm kernels), 2 trainings at once', wasmTwo.reduce((a, r) => a + median(r.rates), 0));
    }
  }
  if (peerFailure) console.log(`peer skipped: PyTorch did not run (${peerFailure})`);

  console.log(`${NET_NAMES[net]}, ${params} parameters, batch 64, ${steps} steps x ${rounds} rounds, ${repeats} repeats, images/s (median)${torch ? `; PyTorch ${torch}` : ''}`);
  const figure = (name: string): number | undefined => (samples.has(name) ? median(samples.get(name)!) : undefined);
  for (const [name, rates] of samples) console.log(`  ${name.padEnd(46)} ${median(rates).toFixed(1).padStart(8)}   (${rates.map((r) => r.toFixed(0)).join(', ')})`);
  const procnasOne = figure(`procnas (${build} kernels), 1 training`)!;
  const procnasTwo = figure(`procnas (${build} kernels), 2 trainings at once`)!;
  const torchOne = figure('PyTorch, 1 thread');
  const torchTwo = figure('PyTorch, 2 threads');
  const torchPair = figure('PyTorch, 2 trainings at once (1 thread each)');
  if (torchOne !== undefined && torchTwo !== undefined && torchPair !== undefined) {
    // Also each repeat's ratio, procnas against the peer run beside it: the machine's drift
    // between repeats (a third here at times) cancels in a pair, not in a ratio of medians.
    const at = (name: string, r: number): number => samples.get(name)![r]!;
    const paired = (ratio: (r: number) => number): string => {
      const each = Array.from({ length: repeats }, (_, r) => ratio(r));
      return `${median(each).toFixed(2)}   (repeats ${each.map((v) => v.toFixed(2)).join(', ')})`;
    };
    const oneName = `procnas (${build} kernels), 1 training`;
    const twoName = `procnas (${build} kernels), 2 trainings at once`;
    console.log(`  ratio procnas(1) / PyTorch(1 thread)                ${(procnasOne / torchOne).toFixed(2)}`);
    console.log(`  ratio procnas(2) / PyTorch's best on 2 cores        ${(procnasTwo / Math.max(torchTwo, torchPair)).toFixed(2)}`);
    console.log(`  the same, median of each repeat's ratio:  1 core    ${paired((r) => at(oneName, r) / at('PyTorch, 1 thread', r))}`);
    console.log(`                                            2 cores   ${paired((r) => at(twoName, r) / Math.max(at('PyTorch, 2 threads', r), at('PyTorch, 2 trainings at once (1 thread each)', r)))}`);
  }
}
