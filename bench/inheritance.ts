/**
 * Weight inheritance, measured: parent–child pairs of the main job's space (the default initial
 * architecture on MNIST; a parent a few moves from it, the child one move from the parent). The
 * parent is trained as the search trains a candidate in full; the child then gets the same short
 * training three times, with the same seed — from scratch; from the parent's weights where names
 * and shapes match (inheritance before network morphism, emulated by handing the child only
 * those); and from the parent's weights as the search hands them (reshaped by network morphism
 * where a layer of the same name widened, narrowed or changed kernel) — and the script prints the
 * validation errors per pair, the shares of the child's weights inherited, and the medians. The
 * peers are the child from scratch and the exact-shape inheritance, in the same run.
 *
 *   node --import tsx bench/inheritance.ts [--pairs 20] [--parent-images 8000] [--child-images 889] [--workers 2] [--seed 1]
 */
import { parseArgs } from 'node:util';
import { createRng, loadDataset } from '../src/data/index.js';
import { TrainingPool } from '../src/engine/pool.js';
import type { TrainJob } from '../src/engine/job.js';
import { DEFAULT_INITIAL } from '../src/experiment/config.js';
import { graphVariables, sameShape } from '../src/engine/variables.js';
import type { Weights } from '../src/engine/variables.js';
import { MobileSpace, architectureToData, lower, notationOf, parseArchitecture } from '../src/space/index.js';
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
  const weights = trained.weights ?? {};
  // Only what a child of these variables takes as it is: no variable of another shape to reshape.
  const variables = graphVariables(lower(child));
  const sameShapes: Weights = Object.fromEntries(Object.entries(weights).filter(([name, w]) => sameShape(w.shape, variables.get(name) ?? [])));
  const [scratch, exact, morphed] = await Promise.all([
    pool.run(job(child, Number(values['child-images']))),
    pool.run(job(child, Number(values['child-images']), { start: sameShapes })),
    pool.run(job(child, Number(values['child-images']), { start: weights })),
  ]);
  const share = (r: typeof exact): number => (r.inherited ? r.inherited.inherited / r.inherited.of : 0);
  console.log(
    `${String(i + 1).padStart(4)}  ${pct(trained.validationError).padStart(7)}  ${pct(scratch.validationError).padStart(8)}  ${pct(exact.validationError).padStart(9)}  ${pct(morphed.validationError).padStart(9)}  ${pct(share(exact)).padStart(9)}  ${pct(share(morphed)).padStart(9)}   ${notationOf(child)}`,
  );
  return { scratch: scratch.validationError, exact: exact.validationError, morphed: morphed.validationError, exactShare: share(exact), morphedShare: share(morphed) };
}

console.log(`MNIST, ${pairs} parent–child pairs; parent trained on ${values['parent-images']} images, child on ${values['child-images']} (one epoch, same seed) from scratch, inheriting same shapes only, and inheriting with morphism`);
console.log('                         child error           share inherited');
console.log('pair   parent   scratch  same-shape  morphism  same-shape  morphism   child');
// Parents a few moves from the initial, children one move from their parent; drawn before any training, so the pairs do not depend on timing.
const drawn = Array.from({ length: pairs }, () => {
  let parent = initial;
  for (let m = 0, moves = 1 + Math.floor(random() * 3); m < moves; m++) parent = space.mutate(parent, random);
  return { parent, child: space.mutate(parent, random) };
});
const results: Awaited<ReturnType<typeof pair>>[] = [];
for (let i = 0; i < drawn.length; i++) results.push(await pair(i, (drawn[i] as { parent: Architecture }).parent, (drawn[i] as { child: Architecture }).child));
await pool.close();
const beats = (a: 'exact' | 'morphed', b: 'scratch' | 'exact') => results.filter((r) => r[a] < r[b]).length;
const reshaped = results.filter((r) => r.morphedShare > r.exactShare);
console.log(
  `\nmedian child error: from scratch ${pct(median(results.map((r) => r.scratch)))}, same shapes ${pct(median(results.map((r) => r.exact)))}, morphism ${pct(median(results.map((r) => r.morphed)))}` +
    `; same shapes lower than scratch in ${beats('exact', 'scratch')} of ${results.length} pairs, morphism in ${beats('morphed', 'scratch')}` +
    `; median share inherited ${pct(median(results.map((r) => r.exactShare)))} and ${pct(median(results.map((r) => r.morphedShare)))}`,
);
if (reshaped.length > 0) {
  const better = reshaped.filter((r) => r.morphed < r.exact).length;
  console.log(
    `pairs where morphism reshaped something: ${reshaped.length}; child error there, median: same shapes ${pct(median(reshaped.map((r) => r.exact)))}, morphism ${pct(median(reshaped.map((r) => r.morphed)))}; morphism lower in ${better} of ${reshaped.length}`,
  );
}
