export { renderReport } from './render.js';
export { escapeHtml } from './escape.js';
export type { PageData, ReportInput, SupernetEpochInput } from './types.js';
