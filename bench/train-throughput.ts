/**
 * Training throughput, procnas against PyTorch in the same run, on two nets: the MobileNetV2-like
 * CIFAR net of shared/notes/engine.md (32x32x3) and the main job's default initial, mnist-mbconv
 * (28x28x1); batch 64, SGD momentum, random data. procnas runs its real `train()` on the WASM
 * backend, once alone and as two trainings at once (two processes, the way a search uses both
 * cores), with each build of its kernels this machine has (host, when built, and wasm); PyTorch
 * (Debian's python3-torch, /usr/bin/python3) with one and with two threads. Medians over rounds;
 * ratios of procnas's default build (host when built) printed after each net.
 *
 * PyTorch runs with glibc's malloc told to keep freed memory (GLIBC_TUNABLES below), as PyTorch's
 * CPU performance guide advises (a caching allocator). Without it every activation tensor is a
 * fresh mmap whose pages fault in at first touch, which on a virtual machine made its training
 * 6x slower (55 against 348 images/s on the CIFAR net here): a peer handicapped by its
 * allocator, not a fair one.
 *
 *   node --import tsx bench/train-throughput.ts [--steps 20] [--rounds 3] [--nets cifar,mnist]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' }, nets: { type: 'string', default: 'cifar,mnist' } },
});
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

for (const net of values.nets.split(',')) {
  if (!NET_NAMES[net]) throw new Error(`--nets: unknown net ${net} (cifar, mnist)`);
  const one = await runWorker(net);
  const two = await Promise.all([runWorker(net), runWorker(net)]);
  const procnasOne = median(one.rates);
  // Two at once: the sum of the two trainings' medians.
  const procnasTwo = two.reduce((a, r) => a + median(r.rates), 0);

  const rows: Array<[string, number]> = [
    [`procnas (${one.kernels} kernels), 1 training`, procnasOne],
    [`procnas (${one.kernels} kernels), 2 trainings at once`, procnasTwo],
  ];
  if (one.kernels === 'host') {
    // The WebAssembly build too: what runs where clang was not there at install.
    const wasmOne = await runWorker(net, 'wasm');
    const wasmTwo = await Promise.all([runWorker(net, 'wasm'), runWorker(net, 'wasm')]);
    rows.push(['procnas (wasm kernels), 1 training', median(wasmOne.rates)], ['procnas (wasm kernels), 2 trainings at once', wasmTwo.reduce((a, r) => a + median(r.rates), 0)]);
  }
  let torchOne: number | undefined;
  let torchTwo: number | undefined;
  if (existsSync(python)) {
    const runs = [1, 2].map((threads) => spawnSync(python, [peer, String(threads), steps, rounds, net], { encoding: 'utf8', env: PEER_ENV }));
    if (runs.every((r) => r.status === 0)) {
      const [a, b] = runs.map((r) => JSON.parse(r.stdout) as { params: number; imagesPerSecond: number; torch: string });
      if (a!.params !== one.params) throw new Error(`the PyTorch ${net} net has ${a!.params} parameters, procnas's ${one.params}: not the same network`);
      torchOne = a!.imagesPerSecond;
      torchTwo = b!.imagesPerSecond;
      rows.push([`PyTorch ${a!.torch}, 1 thread`, torchOne], [`PyTorch ${b!.torch}, 2 threads`, torchTwo]);
    } else {
      console.log(`peer skipped: PyTorch did not run (${runs.find((r) => r.status !== 0)?.stderr.trim().split('\n').pop()})`);
    }
  } else {
    console.log(`peer skipped: ${python} not found (apt-get install python3-torch)`);
  }

  console.log(`${NET_NAMES[net]}, ${one.params} parameters, batch 64, ${steps} steps x ${rounds} rounds, images/s (median)`);
  for (const [name, rate] of rows) console.log(`  ${name.padEnd(46)} ${rate.toFixed(1).padStart(8)}`);
  if (torchOne !== undefined && torchTwo !== undefined) {
    console.log(`  ratio procnas(1) / PyTorch(1 thread)            ${(procnasOne / torchOne).toFixed(2)}`);
    console.log(`  ratio procnas(2) / PyTorch(1 thread)            ${(procnasTwo / torchOne).toFixed(2)}`);
    console.log(`  ratio procnas(2) / PyTorch(2 threads)           ${(procnasTwo / torchTwo).toFixed(2)}`);
  }
}
