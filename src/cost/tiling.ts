/**
 * DRAM traffic of one operation run on its own, when its working set may not fit on chip.
 *
 * A sliding-window operation (convolution, pooling, dense as a 1x1 convolution) is tiled into
 * bands of `r` output rows and groups of `c` output channels. Two loop orders:
 * - weights outer: each weight tile is loaded once and every input band streams past it, so a
 *   dense convolution re-reads its input once per channel tile;
 * - rows outer: each input band is loaded once and the weight tiles stream past it, so weights
 *   are re-read once per band, unless all of them fit beside the band and stay.
 * Overlapping bands re-read their halo rows. The cheapest feasible (r, c, order) wins. Every
 * candidate's traffic is independent of the SRAM size and the feasible set only grows with it,
 * so a smaller SRAM never lowers traffic.
 */

export interface WindowGeometry {
  /** Input rows, row width and channels (per sample). */
  hi: number;
  wi: number;
  ci: number;
  ho: number;
  wo: number;
  co: number;
  /** Effective kernel extent dilation·(k-1)+1, and stride. */
  kernel: number;
  stride: number;
  groups: number;
  /** Weight elements. */
  weights: number;
}

export interface Traffic {
  /** Bytes of weights read from DRAM (re-reads included). */
  weightReads: number;
  /** Bytes of activations read from DRAM (re-reads included). */
  activationReads: number;
  writes: number;
  /** Separate DRAM transfers (each pays the access latency). */
  transfers: number;
}

/** Input rows one band of `rows` output rows needs. */
function bandRows(g: WindowGeometry, rows: number): number {
  const needed = g.stride <= g.kernel ? (rows - 1) * g.stride + g.kernel : rows * g.kernel;
  return Math.min(g.hi, needed);
}

/** Input rows read per sample when the output is cut into bands of `rows` rows. */
function rowsRead(g: WindowGeometry, rows: number): number {
  const full = Math.floor(g.ho / rows);
  const rest = g.ho - full * rows;
  return full * bandRows(g, rows) + (rest > 0 ? bandRows(g, rest) : 0);
}

/** Input elements per sample that a windowed op reads at least once. */
export function neededInputElements(g: WindowGeometry): number {
  return rowsRead(g, g.ho) * g.wi * g.ci;
}

/**
 * Traffic of a windowed op on `batch` samples with `sram` bytes on chip, `b` bytes per element.
 * The tiling chosen is the one with the least DRAM time: bytes plus `transferCost` (the
 * per-transfer overhead in byte-equivalents: access latency × bandwidth, half a burst).
 * Weights stay resident across the batch whenever the chosen tiling keeps them.
 */
export function windowTraffic(g: WindowGeometry, batch: number, sram: number, b: number, transferCost = 0): Traffic {
  const outBytes = g.ho * g.wo * g.co * b;
  const weightBytes = g.weights * b;
  // Everything on chip at once: the input rows the op needs are read once (a strided 1x1
  // convolution skips rows), the weights once for the whole batch.
  const neededBytes = neededInputElements(g) * b;
  if (weightBytes + neededBytes + outBytes <= sram) {
    return { weightReads: weightBytes, activationReads: batch * neededBytes, writes: batch * outBytes, transfers: 1 + 2 * batch };
  }
  const writes = batch * outBytes;
  const weightPerChannel = weightBytes / g.co;
  const groupInputs = g.ci / g.groups;
  const groupOutputs = g.co / g.groups;
  let best: Traffic | undefined;
  let bestCost = Infinity;
  const consider = (t: Traffic): void => {
    const cost = t.weightReads + t.activationReads + t.writes + t.transfers * transferCost;
    if (cost < bestCost) {
      best = t;
      bestCost = cost;
    }
  };
  for (let rows = 1; ; rows = Math.min(rows * 2, g.ho)) {
    const bands = Math.ceil(g.ho / rows);
    const band = bandRows(g, rows) * g.wi * g.ci * b;
    const inputOnce = rowsRead(g, rows) * g.wi * g.ci * b;
    const perChannel = weightPerChannel + rows * g.wo * b;
    // Weights outer. A tile of output channels needs only the input channels of its groups:
    // whole groups per tile when one fits (each input channel then read once), else tiles
    // inside a group, each re-reading that group's input band.
    const groupBand = (band * groupInputs) / g.ci;
    const wholeGroup = groupBand + groupOutputs * perChannel;
    if (wholeGroup <= sram) {
      const tiles = Math.ceil(g.groups / Math.min(g.groups, Math.floor(sram / wholeGroup)));
      consider({ weightReads: weightBytes, activationReads: batch * inputOnce, writes, transfers: tiles + 2 * batch * tiles * bands });
    } else {
      const channels = Math.floor((sram - groupBand) / perChannel);
      if (channels >= 1) {
        const tilesPerGroup = Math.ceil(groupOutputs / channels);
        const tiles = g.groups * tilesPerGroup;
        consider({
          weightReads: weightBytes,
          activationReads: batch * inputOnce * tilesPerGroup,
          writes,
          transfers: tiles + 2 * batch * tiles * bands,
        });
      }
    }
    // Rows outer: the band of all input channels stays while weight tiles stream past it.
    const isChannels = Math.min(g.co, Math.floor((sram - band) / perChannel));
    if (isChannels >= 1) {
      const tiles = Math.ceil(g.co / isChannels);
      const weightsStay = tiles === 1;
      consider({
        weightReads: weightsStay ? weightBytes : batch * bands * weightBytes,
        activationReads: batch * inputOnce,
        writes,
        transfers: batch * bands * (1 + 2 * tiles) + (weightsStay ? 1 : 0),
      });
    }
    if (rows === g.ho) break;
  }
  if (best) return best;
  // Nothing fits, not even one row of one channel: the reduction is split too and partial sums
  // go to DRAM and back. A coarse penalty, charged above every tiling's bytes and transfers so
  // that the cost stays monotone in the SRAM size.
  const rows1 = rowsRead(g, 1) * g.wi * g.ci * b;
  return {
    weightReads: Math.max(weightBytes, batch * g.ho * weightBytes),
    activationReads: batch * rows1 * g.co + writes,
    writes: 2 * writes,
    transfers: 4 * batch * g.ho * g.co,
  };
}

/**
 * Traffic of an op that streams its inputs once (elementwise ops, reductions): inputs read,
 * output written, chunked so that all streams share the SRAM.
 */
export function streamTraffic(inputBytes: number[], outBytes: number, weightBytes: number, batch: number, sram: number): Traffic {
  const streams = inputBytes.length + 1;
  const chunk = Math.max(1, sram / streams);
  let activationReads = 0;
  let transfers = weightBytes > 0 ? 1 : 0;
  for (const bytes of inputBytes) {
    activationReads += batch * bytes;
    transfers += bytes > 0 ? Math.ceil((batch * bytes) / chunk) : 0;
  }
  transfers += Math.ceil((batch * outBytes) / chunk);
  return { weightReads: weightBytes, activationReads, writes: batch * outBytes, transfers };
}
