/** A training worker thread: one engine, one training at a time, jobs from the pool. */
import { parentPort, workerData } from 'node:worker_threads';
import { initEngine } from './backend.js';
import type { BackendChoice } from './backend.js';
import { runJob } from './job.js';
import type { TrainJob } from './job.js';
import { serializeError } from './remote-error.js';

interface Request {
  id: number;
  job: TrainJob;
}

const port = parentPort;
if (!port) throw new Error('procnas: engine/worker.ts runs as a worker thread only');
const ready = initEngine((workerData as { backend: BackendChoice }).backend);
// Whether the engine started or not, the pool hears it now (and every job hears it again).
ready.then(
  () => port.postMessage({ ready: true }),
  (error: unknown) => port.postMessage({ ready: false, error: serializeError(error) }),
);

port.on('message', async ({ id, job }: Request) => {
  try {
    await ready;
    port.postMessage({ id, result: await runJob(job) });
  } catch (error) {
    port.postMessage({ id, error: serializeError(error) });
  }
});
