/**
 * The explorer's controls: each turns what the user did into an `ExplorerChange` (the same kind
 * `window.procnasExplorer.set` takes), and `showControls` puts a state back into them, so that a
 * preset, a pasted profile or the test hook moves the sliders too.
 */
import { stringify } from 'yaml';
import { controlById, byId } from './dom.js';
import type { FormControl } from './dom.js';
import { NB201_CHOICE, PASTED_CHOICE } from './defaults.js';
import { SLIDERS, fieldValue, positionOf } from './sliders.js';
import type { ExplorerChange, ExplorerState } from './state.js';

const NB201_PREFIX = 'nb201:';

/** A built-in's name from the cell field, which may hold the cell string with or without its `nb201:`. */
function nb201Name(field: string): string {
  const cell = field.trim();
  return cell.startsWith(NB201_PREFIX) ? cell : `${NB201_PREFIX}${cell}`;
}

/** Sends every user action on the page's controls to `dispatch`. */
export function bindControls(dispatch: (change: ExplorerChange) => void): void {
  const network = controlById('arch-select');
  const cell = controlById('nb201-cell');
  const pasted = controlById('arch-yaml');
  const architecture = (): ExplorerChange => {
    if (network.value === NB201_CHOICE) return { architecture: nb201Name(cell.value) };
    if (network.value === PASTED_CHOICE) return { yaml: pasted.value };
    return { architecture: network.value };
  };
  network.addEventListener('change', () => dispatch(architecture()));
  cell.addEventListener('input', () => dispatch(architecture()));
  pasted.addEventListener('input', () => dispatch(architecture()));

  const preset = controlById('preset-select');
  preset.addEventListener('change', () => dispatch({ preset: preset.value }));
  for (const slider of SLIDERS) {
    const input = controlById(slider.id);
    input.addEventListener('input', () => dispatch(slider.change(slider.valueAt(Number(input.value)))));
  }
  const dtype = controlById('dtype-select');
  dtype.addEventListener('change', () => dispatch({ dtype: dtype.value }));
  const fusion = controlById('fusion-select');
  fusion.addEventListener('change', () => dispatch({ fusion: fusion.value }));
  const mode = controlById('mode-select');
  mode.addEventListener('change', () => dispatch({ mode: mode.value === 'training' ? 'training' : 'inference' }));
  const batch = controlById('batch-input');
  // An empty or fractional batch goes through as it is: the cost model's message says what is wrong.
  batch.addEventListener('input', () => dispatch({ batch: Number(batch.value) }));
  const profile = controlById('profile-yaml');
  profile.addEventListener('input', () => dispatch({ profileText: profile.value }));
}

/** Writes a value into a control unless it holds it already (rewriting a box moves its caret). */
function put(control: FormControl, value: string): void {
  if (control.value !== value) control.value = value;
}

/** Puts the state into the controls; `change` is what led to it (its own box is left as typed). */
export function showControls(state: ExplorerState, change: ExplorerChange): void {
  const choice = state.architecture;
  const nb201 = choice.kind === 'builtin' && choice.name.startsWith(NB201_PREFIX);
  put(controlById('arch-select'), choice.kind === 'pasted' ? PASTED_CHOICE : nb201 ? NB201_CHOICE : choice.name);
  const cell = controlById('nb201-cell');
  // The field may hold the cell with its prefix, or spaces around it: leave it when it names the cell already.
  if (nb201 && nb201Name(cell.value) !== choice.name) cell.value = choice.name.slice(NB201_PREFIX.length);
  if (choice.kind === 'pasted') put(controlById('arch-yaml'), choice.text);
  byId('nb201-row').hidden = !nb201;
  byId('yaml-row').hidden = choice.kind !== 'pasted';

  put(controlById('preset-select'), state.preset);
  for (const slider of SLIDERS) {
    const value = fieldValue(slider, state.profile);
    if (value !== undefined) put(controlById(slider.id), String(positionOf(slider, value)));
    byId(`${slider.id}-value`).textContent = value === undefined ? '—' : slider.format(value);
  }
  put(controlById('dtype-select'), String(state.profile.dtype));
  // The profile may say `greedy`, depth-first's old name.
  put(controlById('fusion-select'), state.profile.fusion === 'greedy' ? 'depth-first' : String(state.profile.fusion ?? 'composite'));
  put(controlById('mode-select'), state.mode);
  const batch = controlById('batch-input');
  if (Number(batch.value) !== state.batch) batch.value = String(state.batch);
  // The box the user types the profile in keeps their text; every other change rewrites it.
  if (change.profileText === undefined) put(controlById('profile-yaml'), stringify(state.profile));
}
