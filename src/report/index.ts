export { renderReport, reportView } from './render.js';
export type { ReportLinks } from './render.js';
export { compareView, problemView, runsView, trialView } from './dashboard.js';
export type { RunRow } from './dashboard.js';
export { renderPage } from './shell.js';
export type { Assets, LiveSource, View } from './shell.js';
export { escapeHtml } from './escape.js';
export type { PageData, ReportInput, SupernetEpochInput } from './types.js';
