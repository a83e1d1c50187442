import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCostReport } from '../src/cli/format.js';
import { renderTable, textWidth } from '../src/cli/table.js';
import { estimateCost } from '../src/cost/index.js';
import { resolveProcessor } from '../src/processor/index.js';
import { lower, parseArchitecture } from '../src/space/index.js';

describe('renderTable', () => {
  it('draws a box table: widths from the widest cell, one space of padding, each column aligned, a rule under the header only', () => {
    const table = renderTable(
      ['layer', 'MACs', 'latency', 'on chip'],
      [
        ['stem.0.conv', '118,013,952', '73.8 µs', 'fused'],
        ['fc', '5,130', '1.02 ns', ''],
      ],
      ['left', 'right', 'right', 'left'],
    );
    assert.equal(
      table,
      [
        '┌─────────────┬─────────────┬─────────┬─────────┐',
        '│ layer       │        MACs │ latency │ on chip │',
        '├─────────────┼─────────────┼─────────┼─────────┤',
        '│ stem.0.conv │ 118,013,952 │ 73.8 µs │ fused   │',
        '│ fc          │       5,130 │ 1.02 ns │         │',
        '└─────────────┴─────────────┴─────────┴─────────┘',
      ].join('\n'),
    );
  });

  it('counts columns as a terminal does, takes a cell with line breaks as several lines, and draws no rule without a body', () => {
    assert.equal(textWidth('73.8 µs · 1–2'), 13);
    assert.equal(textWidth('日本'), 4);
    assert.equal(textWidth('\u001b[31mred\u001b[0m'), 3);
    assert.equal(textWidth('e\u0301'), 1);
    assert.equal(
      renderTable(['a', 'bb'], [['x\ny', 'z'], ['日本', '·']], ['left', 'right']),
      ['┌──────┬────┐', '│ a    │ bb │', '├──────┼────┤', '│ x    │  z │', '│ y    │    │', '│ 日本 │  · │', '└──────┴────┘'].join('\n'),
    );
    assert.equal(renderTable(['a', 'bb'], []), ['┌───┬────┐', '│ a │ bb │', '└───┴────┘'].join('\n'));
    assert.throws(() => renderTable(['a', 'b'], [['only one']]), /row 1 has 1 cells, the header 2/);
  });
});

describe('formatCostReport', () => {
  // cli-table3 took over a minute for this table (it lays out in time quadratic in the rows).
  it('renders the per-layer table of an architecture with more than 15,000 layers, one line per layer', { timeout: 60_000 }, () => {
    const architecture = parseArchitecture({ input: '32x32x3', classes: 10, stem: ['cn_k3_c16'], stages: [['ir_r2000_k3_e6_c16']], head: ['gap', 'fc'] });
    const processor = resolveProcessor('mobile-npu');
    const report = estimateCost(lower(architecture), processor, { layers: true });
    const n = report.layers.length;
    assert.ok(n > 15_000, `only ${n} layers`);
    const lines = formatCostReport(report, processor).split('\n');
    const bottom = lines.findIndex((l) => l.startsWith('└'));
    assert.equal(bottom, n + 3, 'top border, header, rule, one line per layer, then the bottom border');
    assert.ok(lines[0]!.startsWith('┌─') && lines[0]!.endsWith('┐'), `top border: ${lines[0]}`);
    assert.ok(lines[1]!.startsWith('│ layer '), `header: ${lines[1]}`);
    assert.ok(lines[2]!.startsWith('├─') && lines[2]!.endsWith('┤'), `rule under the header: ${lines[2]}`);
    const width = textWidth(lines[0]!);
    for (let i = 0; i < n; i++) {
      const line = lines[i + 3]!;
      const name = report.layers[i]!.name;
      assert.ok(line.startsWith(`│ ${name} `) && line.endsWith(' │'), `line ${i + 3} is not layer ${name}: ${line}`);
      if (textWidth(line) !== width) assert.fail(`line ${i + 3} is ${textWidth(line)} columns wide, the border ${width}`);
    }
    assert.equal(textWidth(lines[bottom]!), width);
    assert.equal(lines[bottom + 1], '', 'a blank line between the table and the totals');
    assert.ok(lines[bottom + 2]!.includes('on mobile-npu'), `totals: ${lines[bottom + 2]}`);
  });
});
