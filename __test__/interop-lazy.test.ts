// Our lazy reader against python anndata 0.13.4's: `readLazy(store).select(obs, var).toMemory()`
// equals `read_lazy(store)[obs, var].to_memory()` (canonical dumps, as in interop-anndata) on
// the pbmc68k reference stores (v2, and v3 sharded): dense X, CSR obsp (rows and columns
// taken), CSR raw.X (rows taken), categoricals (a subset keeps only the categories it uses).
// Python runs from .venv-anndata-0.13 with xarray and dask (missing: fails in CI, skipped
// elsewhere).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type LazySelection, readLazy } from '../src-ts/anndata/index.js';
import { slice } from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { PYTHON_013, ROOT, skipWithoutPython } from './helpers.js';

const PBMC = join(ROOT, '__test__', 'fixtures', 'pbmc68k');

/** One selection in both spellings: ours, and the script's JSON. */
type Sel = { ours: LazySelection; py: unknown };
const all: Sel = { ours: null, py: null };
const sl = (start: number, stop: number, step = 1): Sel => ({
  ours: slice(start, stop, step),
  py: { slice: [start, stop, step] },
});
const at = (positions: number[]): Sel => ({ ours: positions, py: { positions } });
const maskOf = (n: number, f: (i: number) => boolean): Sel => {
  const m = Array.from({ length: n }, (_, i) => f(i));
  return { ours: m, py: { mask: m } };
};

interface Case {
  store: string;
  obs: Sel;
  var: Sel;
}

type Result = { dump: Record<string, unknown> } | { error: string };

function pythonReads(cases: Case[]): Result[] {
  const items = cases.map((c) => ({ store: c.store, obs: c.obs.py, var: c.var.py }));
  const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', 'anndata_read_lazy.py')], {
    input: JSON.stringify(items),
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`anndata_read_lazy.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Result[];
}

describe.skipIf(skipWithoutPython(PYTHON_013))('readLazy ... toMemory equals python read_lazy ... to_memory', () => {
  test('pbmc68k (v2, v3 sharded): slices, unsorted repeated positions, masks', async () => {
    const cases: Case[] = [];
    for (const store of [join(PBMC, 'v2.zarr'), join(PBMC, 'v3.zarr')]) {
      cases.push(
        { store, obs: sl(100, 160), var: all },
        { store, obs: at([650, 3, 3, 77, 699]), var: at([764, 0, 12]) },
        { store, obs: maskOf(700, (i) => i % 37 === 0), var: sl(10, 400, 7) },
      );
    }
    const python = pythonReads(cases);
    for (const [i, c] of cases.entries()) {
      const p = python[i];
      if ('error' in p) throw new Error(`python could not read case ${i} of ${c.store}: ${p.error}`);
      const got = dumpAnnData(await (await readLazy(c.store)).select(c.obs.ours, c.var.ours).toMemory());
      expect({ case: i, ...got }).toEqual({ case: i, ...p.dump });
    }
  });
});
