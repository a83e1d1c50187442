export * from './model.js';
export { estimateArchitectureCost } from './architecture.js';
export { nonFiniteFigure } from './figures.js';
export { deployedMemory } from './memory.js';
export type { MemoryFigures } from './memory.js';
export type { Mapping, OperandTraffic, Pass, Tile } from './mapping.js';
export { UTILISATION_CLASSES } from './analysis.js';
export type { UtilisationClass } from './analysis.js';
import { forgetBlocks } from './architecture.js';
import { forgetMappings } from './mapping.js';
import { forgetComposites } from './model.js';

/** Forgets every memo of the cost model: the next estimate pays lowering blocks and mapping layers again (for benchmarks). */
export function forgetCostMemos(): void {
  forgetBlocks();
  forgetMappings();
  forgetComposites();
}
export { costReportJson, deployedFit, formatMapping } from './describe.js';
