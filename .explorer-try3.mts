import { parseArchitecture, lower } from './src/space/index.ts';
import { parse } from 'yaml';
const texts = [
  'name: "<img src=x onerror=window.pwned=1>"\ninput: 32x32x3\nclasses: 10\nstem: [cn_k3_s1_c16]\nstages:\n  - ["<img src=x onerror=window.pwned=2>"]\nhead: [gap, fc]\n',
  `name: explorer-test
input: 32x32x3
classes: 10
act: relu6
stem: [cn_k3_s1_c16]
stages:
  - [ir_r2_k3_s2_e6_c24, ds_k3_s1_c24_se0.25]
  - [er_k3_s2_e4_c40, { type: ir, kernel: 5, expand: 3, out: 40 }]
  - - graph:
        name: two-branch
        nodes:
          - { id: a, op: conv, kernel: 3, out: 16, inputs: [in] }
          - { id: b, op: dwconv, kernel: 5, inputs: [in] }
          - { id: c, op: concat, inputs: [a, b] }
          - { id: y, op: pwconv, out: 48, inputs: [c] }
        output: y
      repeat: 2
head: [cn_k1_c320, gap, fc]
`];
for (const t of texts) { try { const a = parseArchitecture(parse(t), 'pasted architecture'); const g = lower(a); console.log('ok', g.name, g.params, g.layers.length); } catch (e) { console.log('ERR', (e as Error).message); } }
