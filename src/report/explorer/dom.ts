/**
 * The few browser APIs the explorer's client uses, declared here: the project compiles without
 * the DOM library (adding it would give every Node module `document` and `window` to misuse), so
 * the client reaches the page through these narrow types and nothing else.
 */

export interface PageElement {
  textContent: string | null;
  className: string;
  hidden: boolean;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: { toggle(name: string, force?: boolean): boolean };
  append(...nodes: Array<PageElement | string>): void;
  replaceChildren(...nodes: Array<PageElement | string>): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: 'input' | 'change', listener: () => void): void;
}

/** An <input>, <select> or <textarea>: what the user typed or chose is its `value`. */
export interface FormControl extends PageElement {
  value: string;
}

interface PageDocument {
  readonly body: PageElement;
  getElementById(id: string): PageElement | null;
  createElement(tag: string): PageElement;
}

/** Chart.js's configuration, as far as the explorer's bar charts use it. */
export interface ChartDataset {
  label: string;
  data: number[];
  backgroundColor: string;
  stack?: string;
}

export interface ChartData {
  labels: string[];
  datasets: ChartDataset[];
}

export interface ChartAxis {
  stacked?: boolean;
  title?: { display: boolean; text: string };
  ticks?: { display?: boolean; autoSkip?: boolean; maxRotation?: number };
}

export interface ChartOptions {
  animation: false;
  maintainAspectRatio: false;
  scales: { x: ChartAxis; y: ChartAxis };
}

export interface ChartInstance {
  data: ChartData;
  options: ChartOptions;
  update(mode?: 'none'): void;
}

type ChartConstructor = new (canvas: PageElement, config: { type: 'bar'; data: ChartData; options: ChartOptions }) => ChartInstance;

interface BrowserGlobals {
  document: PageDocument;
  /** Chart.js's UMD build, loaded by its own script tag before the explorer's. */
  Chart: ChartConstructor;
}

const browser = globalThis as unknown as BrowserGlobals;

/** The element of the page with this id; the page is ours, so a missing one is a bug worth a loud error. */
export function byId(id: string): PageElement {
  const element = browser.document.getElementById(id);
  if (!element) throw new Error(`the explorer page has no element #${id}`);
  return element;
}

/** A form control by id (an <input>, <select> or <textarea> of the page). */
export function controlById(id: string): FormControl {
  return byId(id) as FormControl;
}

/** A new element holding `text` as text (never parsed as HTML). */
export function element(tag: string, text = '', className = ''): PageElement {
  const made = browser.document.createElement(tag);
  if (text) made.textContent = text;
  if (className) made.className = className;
  return made;
}

export function pageBody(): PageElement {
  return browser.document.body;
}

export function newChart(canvas: PageElement, data: ChartData, options: ChartOptions): ChartInstance {
  return new browser.Chart(canvas, { type: 'bar', data, options });
}

/** Publishes the test hook where the page's tests (and a curious user's console) find it. */
export function publish(name: string, value: object): void {
  (globalThis as unknown as Record<string, unknown>)[name] = value;
}
