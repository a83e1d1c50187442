import { availableParallelism } from 'node:os';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { BackendChoice } from '../../engine/backend.js';
import { DEFAULT_LOCK_MS, DEFAULT_QUEUE_NAME, QueueWorker } from '../../experiment/queue.js';
import { duration, positiveInt } from '../args.js';

interface WorkerFlags {
  queue: string;
  name: string;
  threads?: number;
  lockTimeout: number;
  backend: BackendChoice;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Train the trials of searches started with --queue, on this machine, until stopped (Ctrl-C finishes the jobs in hand)')
    .requiredOption('--queue <redis-url>', 'the Redis the searches send their trials to, e.g. redis://host:6379')
    .option('--name <queue>', 'queue name (config key queue.name of the searches)', DEFAULT_QUEUE_NAME)
    .option('--threads <n>', 'trainings at once (default: one per core)', positiveInt)
    .addOption(new Option('--lock-timeout <time>', 'if this worker dies, its jobs go to another worker after about this long').argParser(duration).default(DEFAULT_LOCK_MS / 1000, '30s'))
    .addOption(new Option('--backend <name>', 'ML backend').choices(['auto', 'native', 'wasm', 'cpu']).default('auto'))
    .action(async (flags: WorkerFlags) => {
      const threads = flags.threads ?? availableParallelism();
      const worker = await QueueWorker.start({
        url: flags.queue,
        name: flags.name,
        threads,
        backend: flags.backend,
        lockMs: flags.lockTimeout * 1000,
        onJob: (e) => console.error(`${new Date().toISOString()} ${e.state} ${e.notation}${e.detail ? `: ${e.detail}` : ''}`),
        onConnectionError: (error) => console.error(`${new Date().toISOString()} queue connection: ${error.message}`),
      });
      console.error(`procnas worker: ${threads} threads on queue ${flags.name} at ${flags.queue}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          console.error('procnas worker: finishing the jobs in hand, then stopping');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await worker.close();
      process.exit(0);
    });
}
