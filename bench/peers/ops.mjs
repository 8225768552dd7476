// The array operations of the benchmark protocol for JS peers, written once over a small adapter
// (open / read / readAll / readPoint / writeAll), so zarrs-node and zarrita.js run the same loops.
import { readFileSync, writeFileSync } from 'node:fs';

/** Peak resident set size (KiB) since the last reset; Linux only, null elsewhere. */
export function peakRssKiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Reset the kernel's peak-RSS counter so each operation reports its own peak. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux: the peak then covers the whole process
  }
}

/** Origins of the cells of a regular grid of `cell` over `shape`, in C order, and each cell's shape. */
export function gridCells(shape, cell) {
  const counts = shape.map((s, d) => Math.ceil(s / cell[d]));
  const total = counts.reduce((a, b) => a * b, 1);
  const cells = [];
  for (let i = 0; i < total; i++) {
    let r = i;
    const start = new Array(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      start[d] = (r % counts[d]) * cell[d];
      r = Math.floor(r / counts[d]);
    }
    cells.push({ start, shape: start.map((s, d) => Math.min(cell[d], shape[d] - s)) });
  }
  return cells;
}

/** Run `task` over `items` with at most `concurrency` in flight; returns the results in order. */
async function pool(items, concurrency, task) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Every operation of `spec.ops`: one untimed warm-up run that also computes the checksum, then
 * `spec.repeats` timed runs (none with `spec.once`: the driver then times the whole process).
 * Returns `{ [op]: { ms[], checksum, peakRssKiB, p50Us?, p99Us? } | { error } }`.
 */
export async function runOps(spec, impl) {
  const results = {};
  const { sum } = impl;
  const ops = {
    write: async (a, check) => {
      await impl.writeAll(a, impl.input);
      return check ? sum(impl.input) : 0;
    },
    read_all: async (a, check) => {
      const data = await impl.readAll(a);
      return check ? sum(data) : 0;
    },
    round_trip: async (a, check, target) => {
      const data = await impl.readAll(a);
      await impl.writeAll(target, data);
      return check ? sum(data) : 0;
    },
    chunks_1: (a, check) => cellsRead(a, spec.chunk, 1, check),
    chunks_2: (a, check) => cellsRead(a, spec.chunk, 2, check),
    inner_1: (a, check) => cellsRead(a, spec.inner ?? spec.chunk, 1, check),
    inner_2: (a, check) => cellsRead(a, spec.inner ?? spec.chunk, 2, check),
    random: async (a, check, _t, lat) => {
      let s = 0;
      const shape = spec.shape.map(() => spec.block);
      for (const start of spec.random) {
        const t = performance.now();
        const data = await impl.read(a, start, shape);
        lat?.push(performance.now() - t);
        if (check) s += sum(data);
      }
      return s;
    },
    single: async (a, check, _t, lat) => {
      let s = 0;
      for (const p of spec.points) {
        const t = performance.now();
        const v = await impl.readPoint(a, p);
        lat?.push(performance.now() - t);
        s += Number(v);
      }
      return check ? s : 0;
    },
  };
  async function cellsRead(a, cell, concurrency, check) {
    const sums = await pool(gridCells(spec.shape, cell), concurrency, async (c) => {
      const data = await impl.read(a, c.start, c.shape);
      return check ? sum(data) : 0;
    });
    return sums.reduce((x, y) => x + y, 0);
  }
  for (const op of spec.ops) {
    const run = ops[op];
    if (!run) {
      results[op] = { error: `unknown operation '${op}'` };
      continue;
    }
    try {
      if (op === 'write') impl.input = impl.loadInput();
      await impl.freeMemory();
      resetPeakRss();
      const source = await impl.open(op === 'write' ? spec.writeTarget : spec.store);
      const target = op === 'round_trip' ? await impl.open(spec.roundTripTarget) : undefined;
      // `once` (whole-process timing): the one run does only the operation, no checksum pass.
      const checksum = await run(source, !spec.once, target, undefined);
      const ms = [];
      const lat = [];
      for (let i = 0; i < (spec.once ? 0 : spec.repeats); i++) {
        await impl.freeMemory();
        const t = performance.now();
        await run(source, false, target, lat);
        ms.push(performance.now() - t);
      }
      const r = { ms, checksum: String(checksum), peakRssKiB: peakRssKiB() };
      if (lat.length) {
        lat.sort((x, y) => x - y);
        r.p50Us = quantile(lat, 0.5) * 1e3;
        r.p99Us = quantile(lat, 0.99) * 1e3;
      }
      results[op] = r;
    } catch (e) {
      results[op] = { error: String(e?.message ?? e).split('\n')[0] };
    }
    if (op === 'write') impl.input = undefined;
  }
  return results;
}
