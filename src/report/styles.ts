/** The page's style sheet. */
export const STYLES = `
:root { --ink: #202124; --muted: #5f6368; --line: #dadce0; --bg: #f8f9fa; --initial: #e8710a; --best: #188038; --pareto: #1a73e8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h1 small { color: var(--muted); font-weight: normal; font-size: 16px; }
h2 { font-size: 19px; margin: 36px 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; }
p.note, .caption { color: var(--muted); margin: 4px 0 12px; }
code, pre, .notation { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre.notation { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; white-space: pre-wrap; word-break: break-all; margin: 8px 0 14px; }
.lede { font-size: 16px; margin: 6px 0 18px; }
.good { color: var(--best); } .bad { color: #c5221f; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.chart { position: relative; height: 320px; }
.chart.wide { height: 300px; }
.single { margin-top: 16px; }
.chart.tall { height: 360px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eceff1; text-align: left; vertical-align: top; }
th { font-weight: 600; background: #f1f3f4; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.compare td:not(:first-child), table.compare th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
table.compare th[scope="row"] { background: none; position: static; white-space: nowrap; }
table.compare td { white-space: nowrap; }
table.compare td.notation { text-align: left; font-size: 11.5px; white-space: normal; }
table.facts th { width: 34%; background: none; position: static; }
table.processor th:first-child { width: 20%; } table.processor td:nth-child(2) { width: 30%; }
table.processor thead th { background: #f1f3f4; }
td.source { color: var(--muted); font-size: 12.5px; }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th::after { content: " ↕"; color: #bdc1c6; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; color: var(--ink); }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; color: var(--ink); }
table.sortable td { vertical-align: baseline; }
table.sortable td.num { white-space: nowrap; }
table.sortable th[data-type="num"] { text-align: right; }
#trials-table td:nth-child(2), #supernet-table td:nth-child(2) { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11.5px; word-break: break-all; }
#supernet-table td:nth-child(2) { min-width: 260px; word-break: normal; overflow-wrap: anywhere; }
#supernet-table th { white-space: normal; vertical-align: bottom; }
#supernet-table th[data-type="num"] { min-width: 84px; }
.grid2 + p.note { margin-top: 14px; }
table.layers td:nth-child(4) { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11.5px; }
tr.best td { background: #e6f4ea; } tr.initial td { background: #feefe3; } tr.not-done td { color: var(--muted); }
.tag { display: inline-block; margin-left: 6px; font-family: system-ui, sans-serif; font-size: 11px; color: var(--muted); white-space: nowrap; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
details { margin: 10px 0; } summary { cursor: pointer; font-weight: 600; }
.legend-key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: baseline; }
.diagram { display: flex; flex-direction: column; gap: 10px; }
.stage { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--pareto); border-radius: 8px; padding: 8px 10px; }
.stage.stem, .stage.head { border-left-color: #9aa0a6; }
.stage-head { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; margin-bottom: 6px; }
.stage-head code { color: var(--muted); }
.shape, .count { color: var(--muted); font-size: 12px; }
.blocks { display: flex; flex-wrap: wrap; gap: 8px; }
.block { border: 1px dashed #bdc1c6; border-radius: 6px; padding: 4px 6px 6px; background: #fafafa; min-width: 240px; flex: 0 1 280px; }
.block-head { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; color: var(--muted); margin-bottom: 3px; }
.composite { border: 1px solid #aecbfa; background: #f4f8fe; border-radius: 5px; padding: 5px 7px; }
.composite .notation { font-weight: 600; font-size: 12px; }
.composite .kind { font-size: 11.5px; color: var(--muted); margin-bottom: 4px; }
.composite .figures { font-size: 11.5px; color: var(--muted); margin-top: 4px; }
.badge { font-family: system-ui, sans-serif; font-weight: normal; font-size: 11px; color: var(--best); }
.chips { display: flex; flex-wrap: wrap; align-items: center; gap: 3px; }
.chip { display: inline-block; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 0 6px; font-size: 11.5px; white-space: nowrap; }
.chip .main { font-weight: 600; }
.chip .epi { color: var(--muted); }
.chip .edge { color: var(--pareto); font-size: 10.5px; margin-right: 4px; }
p.types { display: flex; flex-wrap: wrap; gap: 2px 18px; margin: 0 0 4px; font-size: 12px; color: var(--muted); }
p.types code { color: var(--ink); font-weight: 600; margin-right: 3px; }
.arrow { color: #9aa0a6; font-size: 12px; }
body > footer { max-width: 1280px; margin: 0 auto; padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
nav.dashboard { max-width: 1280px; margin: 0 auto; padding: 12px 28px 0; display: flex; gap: 16px; align-items: baseline; }
nav.dashboard a { color: var(--pareto); text-decoration: none; font-weight: 600; }
.live { margin-left: auto; color: var(--best); font-size: 12px; }
.live.problem, p.problem { color: #c5221f; }
p.problem { font-size: 16px; background: #fce8e6; border: 1px solid #f6aea9; border-radius: 6px; padding: 10px 14px; }
table.runs td, table.runs th { white-space: nowrap; }
a { color: var(--pareto); }
.pager { display: flex; gap: 8px; align-items: baseline; margin: 8px 0; color: var(--muted); }
.pager button { font: inherit; padding: 2px 8px; }
`;
