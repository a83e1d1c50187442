/**
 * Weight inheritance, measured: parent–child pairs of the main job's space (the default initial
 * architecture on MNIST; a parent a few moves from it, the child one move from the parent). The
 * parent is trained as the search trains a candidate in full; the child then gets the same short
 * training twice, with the same seed — from scratch, and from the parent's weights where names
 * and shapes match — and the script prints both validation errors per pair, the share of the
 * child's weights inherited, and the medians. The peer is the child from scratch, in the same run.
 *
 *   node --import tsx bench/inheritance.ts [--pairs 20] [--parent-images 8000] [--child-images 889] [--workers 2] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { createRng, loadDataset } from '../src/data/index.js';
import { TrainingPool } from '../src/engine/pool.js';
import type { TrainJob } from '../src/engine/job.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { MobileSpace, architectureToData, notationOf, parseArchitecture } from '../src/space/index.js';
import type { Architecture } from '../src/space/index.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    'parent-images': { type: 'string', default: '8000' },
    'child-images': { type: 'string', default: '889' },
    workers: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const pairs = Number(values.pairs);
const random = createRng(Number(values.seed));
const dataset = loadDataset('mnist');
const initial: Architecture = { ...parseArchitecture(DEFAULT_INITIAL), input: dataset.shape, classes: dataset.classes };
const space = new MobileSpace(initial);
const pool = new TrainingPool(Number(values.workers), 'auto');
const split = (images: number) => ({ seed: 0, limit: images, validation: 2000 });
const options = { epochs: 1, batchSize: 64, learningRate: 0.1, seed: 7 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function pair(i: number, parent: Architecture, child: Architecture) {
  const job = (a: Architecture, images: number, extra: Partial<TrainJob> = {}): TrainJob => ({ architecture: architectureToData(a), dataset: 'mnist', split: split(images), options, ...extra });
  const trained = await pool.run(job(parent, Number(values['parent-images']), { weights: true }));
  const [scratch, inherited] = await Promise.all([
    pool.run(job(child, Number(values['child-images']))),
    pool.run(job(child, Number(values['child-images']), { start: trained.weights ?? {} })),
  ]);
  const share = inherited.inherited ? inherited.inherited.inherited / inherited.inherited.of : 0;
  console.log(`${String(i + 1).padStart(4)}  ${pct(trained.validationError).padStart(7)}  ${pct(scratch.validationError).padStart(8)}  ${pct(inherited.validationError).padStart(9)}  ${pct(share).padStart(9)}   ${notationOf(child)}`);
  return { scratch: scratch.validationError, inherited: inherited.validationError, share };
}

console.log(`MNIST, ${pairs} parent–child pairs; parent trained on ${values['parent-images']} images, child on ${values['child-images']} (one epoch, same seed) from scratch and inherited`);
console.log('pair   parent   scratch  inherited  inherited   child');
// Parents a few moves from the initial, children one move from their parent; drawn before any training, so the pairs do not depend on timing.
const drawn = Array.from({ length: pairs }, () => {
  let parent = initial;
  for (let m = 0, moves = 1 + Math.floor(random() * 3); m < moves; m++) parent = space.mutate(parent, random);
  return { parent, child: space.mutate(parent, random) };
});
const results = [];
for (let i = 0; i < drawn.length; i++) results.push(await pair(i, (drawn[i] as { parent: Architecture }).parent, (drawn[i] as { child: Architecture }).child));
await pool.close();
const better = results.filter((r) => r.inherited < r.scratch).length;
console.log(`\nmedian child error: from scratch ${pct(median(results.map((r) => r.scratch)))}, inherited ${pct(median(results.map((r) => r.inherited)))}; inherited lower in ${better} of ${results.length} pairs; median share inherited ${pct(median(results.map((r) => r.share)))}`);
