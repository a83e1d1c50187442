/**
 * Box tables for the terminal (`procnas cost`'s per-layer table, `procnas presets`).
 *
 * This replaces cli-table3, whose layout is quadratic in the number of rows: the per-layer table
 * of an 18,000-layer architecture took over a minute to lay out, against two seconds for the whole
 * `--json` report. Here one pass over the cells finds the column widths and one pass writes the
 * lines, joined once. The output is what cli-table3 drew with its default characters and
 * `style: { head: [], border: [], compact: true }`, byte for byte:
 *
 *     ┌────────┬──────┐
 *     │ layer  │ MACs │      one space of padding each side of each cell
 *     ├────────┼──────┤      a separator under the header only
 *     │ conv   │  864 │
 *     │ bn     │    0 │
 *     └────────┴──────┘
 *
 * Widths are counted as cli-table3 counted them (through string-width 4): ANSI colour codes,
 * control characters and combining accents take no column, East Asian wide and fullwidth
 * characters two, an emoji two (see EMOJI for the newest ones), everything else (µ, ·, –, é, …)
 * one. A cell holding `\n` takes several lines, top-aligned, as in cli-table3. A table with no
 * body rows has no separator.
 */

export type Align = 'left' | 'right';

/** ANSI escape sequences, as strip-ansi 6 (ansi-regex 5) finds them. */
const ANSI = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;

/**
 * An emoji, with its variation selector, skin tone and zero-width-joined parts, or a flag (two
 * regional indicators): two columns. As emoji-regex 8, which string-width 4 uses, for every
 * single character but the emoji Unicode added after it (126 under Node 20, e.g. U+1F6D6 hut),
 * which string-width 4 counted as one column and terminals draw, and this counts, as two.
 */
const EMOJI =
  /(?:[\u{1F1E6}-\u{1F1FF}]{2}|\p{Emoji_Presentation}|\p{Emoji}\uFE0F|\p{Emoji_Modifier_Base})[\u{1F3FB}-\u{1F3FF}\uFE0F\u20E3]*(?:\u200D(?:\p{Emoji_Presentation}|\p{Emoji}\uFE0F?)[\u{1F3FB}-\u{1F3FF}\uFE0F]*)*/gu;

const PLAIN = /^[\x20-\x7E]*$/;

/** East Asian wide and fullwidth code points (is-fullwidth-code-point 3, as string-width 4). */
function isWide(c: number): boolean {
  return (
    c >= 0x1100 &&
    (c <= 0x115f ||
      c === 0x2329 ||
      c === 0x232a ||
      (c >= 0x2e80 && c <= 0x3247 && c !== 0x303f) ||
      (c >= 0x3250 && c <= 0x4dbf) ||
      (c >= 0x4e00 && c <= 0xa4c6) ||
      (c >= 0xa960 && c <= 0xa97c) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe10 && c <= 0xfe19) ||
      (c >= 0xfe30 && c <= 0xfe6b) ||
      (c >= 0xff01 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6) ||
      (c >= 0x1b000 && c <= 0x1b001) ||
      (c >= 0x1f200 && c <= 0x1f251) ||
      (c >= 0x20000 && c <= 0x3fffd))
  );
}

/** The columns one line of text takes on a terminal. */
export function textWidth(line: string): number {
  if (PLAIN.test(line)) return line.length;
  let width = 0;
  for (const ch of line.replace(ANSI, '').replace(EMOJI, '  ')) {
    const c = ch.codePointAt(0) ?? 0;
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) continue; // control characters
    if (c >= 0x300 && c <= 0x36f) continue; // combining accents
    width += isWide(c) ? 2 : 1;
  }
  return width;
}

/**
 * A box table: `head` over `rows`, each column aligned as `align` says (left when not said).
 * Every row has as many cells as `head`.
 */
export function renderTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const columns = head.length;
  const all = [head, ...rows];
  // Pass 1: each cell's lines and their widths, and each column's width.
  const cells: string[][][] = [];
  const widths: number[][][] = [];
  const colWidth = new Array<number>(columns).fill(0);
  for (let r = 0; r < all.length; r++) {
    const row = all[r] as readonly string[];
    if (row.length !== columns) throw new Error(`table row ${r} has ${row.length} cells, the header ${columns}`);
    const rowLines: string[][] = [];
    const rowWidths: number[][] = [];
    for (let c = 0; c < columns; c++) {
      const lines = String(row[c]).split('\n');
      const w = lines.map(textWidth);
      rowLines.push(lines);
      rowWidths.push(w);
      for (const x of w) if (x > colWidth[c]!) colWidth[c] = x;
    }
    cells.push(rowLines);
    widths.push(rowWidths);
  }
  // Pass 2: the lines.
  const rule = (left: string, mid: string, right: string): string => left + colWidth.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  const out: string[] = [rule('┌', '┬', '┐')];
  for (let r = 0; r < cells.length; r++) {
    const rowLines = cells[r]!;
    const rowWidths = widths[r]!;
    const height = Math.max(1, ...rowLines.map((l) => l.length));
    for (let i = 0; i < height; i++) {
      let line = '│';
      for (let c = 0; c < columns; c++) {
        const text = rowLines[c]![i] ?? '';
        const pad = ' '.repeat(colWidth[c]! - (rowWidths[c]![i] ?? 0));
        line += align[c] === 'right' ? ` ${pad}${text} │` : ` ${text}${pad} │`;
      }
      out.push(line);
    }
    if (r === 0 && cells.length > 1) out.push(rule('├', '┼', '┤'));
  }
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}
