/**
 * The cost explorer's script (bundled for the browser by src/cli/serve/bundle.ts): the cost
 * model runs here, in the page, on every change; nothing goes to the server. Also the test
 * hook, `window.procnasExplorer`, which changes the state through the same path as the controls.
 */
import { bindControls, showControls } from './controls.js';
import { byId, pageBody, publish } from './dom.js';
import { Evaluator, applyChange, initialState, totalsJson } from './state.js';
import type { ExplorerChange, Outcome } from './state.js';
import { showOutcome, showStatus } from './view.js';

/** Long enough to skip most of a slider drag's events, short enough to feel immediate. */
const DEBOUNCE_MS = 40;

let state = initialState();
const evaluator = new Evaluator();
let outcome: Outcome = { problems: {} };
let lastMs = 0;
let lastCostMs = 0;
let computes = 0;
let pending: ReturnType<typeof setTimeout> | undefined;

function recompute(): void {
  if (pending !== undefined) clearTimeout(pending);
  pending = undefined;
  const start = performance.now();
  outcome = evaluator.evaluate(state);
  lastCostMs = performance.now() - start;
  try {
    showOutcome(outcome);
  } catch (error) {
    // A bug in drawing: say so in the page rather than leave it half drawn, and still throw it.
    byId('cost-error').textContent = `the page failed to show the cost: ${(error as Error).message}`;
    byId('cost-error').hidden = false;
    throw error;
  }
  lastMs = performance.now() - start;
  computes += 1;
  showStatus(outcome.costed ? `costed in ${lastCostMs.toFixed(1)} ms, shown in ${(lastMs - lastCostMs).toFixed(1)} ms` : 'not costed: see the message above');
  pageBody().dataset.ready = 'true';
}

/** Every change, from a control or from the hook: the state, the controls, then the cost (now, or after the debounce). */
function change(what: ExplorerChange, when: 'now' | 'debounced'): void {
  state = applyChange(state, what);
  showControls(state, what);
  if (when === 'now') recompute();
  else {
    if (pending !== undefined) clearTimeout(pending);
    pending = setTimeout(recompute, DEBOUNCE_MS);
  }
}

bindControls((what) => change(what, 'debounced'));
showControls(state, {});
recompute();

publish('procnasExplorer', {
  /** Changes the state as the controls would, and recomputes at once. */
  set(partial: ExplorerChange): void {
    change(partial, 'now');
  },
  /** The profile as edited (data, as a profile file would hold it). */
  profile: (): object => structuredClone(state.profile),
  /** `procnas cost --json --totals` of the current state, or the problems that stop it. */
  result: (): object => (outcome.costed ? totalsJson(outcome.costed.report) : { problems: outcome.problems }),
  /** Milliseconds of the last recompute: the cost, and showing it. */
  get lastMs(): number {
    return lastMs;
  },
  /** Milliseconds of the cost model alone in the last recompute. */
  get lastCostMs(): number {
    return lastCostMs;
  },
  /** Recomputes so far: a test waits for this to grow after moving a control. */
  get computes(): number {
    return computes;
  },
});
