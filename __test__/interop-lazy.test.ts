// Our lazy reader against python anndata 0.13.4's: `readLazy(store).select(obs, var).toMemory()`
// equals `read_lazy(store)[obs, var].to_memory()` (canonical dumps, as in interop-anndata) on
// the pbmc68k reference stores (v2, and v3 sharded): dense X, CSR obsp (rows and columns
// taken), CSR raw.X (rows taken), categoricals (a subset keeps only the categories it uses).
// Python runs from .venv-anndata-0.13 with xarray and dask (missing: fails in CI, skipped
// elsewhere).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  AnnData,
  CscMatrix,
  CsrMatrix,
  concat,
  DataFrame,
  type LazySelection,
  type Matrix,
  readLazy,
  writeZarr,
} from '../src-ts/anndata/index.js';
import { slice } from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';

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

/** A dumped matrix as what python and we must agree on: format, dtype, shape, values by row. */
function canonicalMatrix(d: unknown): unknown {
  const m = d as {
    type: string;
    dtype: string;
    shape: number[];
    data: unknown[];
    indices?: number[];
    indptr?: number[];
  };
  const [n, k] = m.shape;
  if (m.type === 'array') return { format: 'dense', dtype: m.dtype, shape: m.shape, data: m.data };
  const dense: unknown[] = new Array(n * k).fill(0);
  const [major, minor] = m.type === 'csr_matrix' ? [n, k] : [k, n];
  const ptr = m.indptr as number[];
  const idx = m.indices as number[];
  for (let i = 0; i < major; i++) {
    for (let q = ptr[i]; q < ptr[i + 1]; q++) {
      dense[m.type === 'csr_matrix' ? i * minor + idx[q] : idx[q] * k + i] = m.data[q];
    }
  }
  return { format: m.type, dtype: m.dtype, shape: m.shape, data: dense };
}

/** The values of a dumped string index, plain or nullable. */
const names = (d: unknown) => (d as { data?: string[]; values?: string[] }).data ?? (d as { values: string[] }).values;

describe.skipIf(skipWithoutPython(PYTHON_013))('concat equals python anndata.concat', () => {
  /** n rows, var names `vars`, X dense float32; then the layers and obsm entries given. */
  function part(n: number, vars: string[], layers: Record<string, Matrix>, obsm: Record<string, Matrix>, tag: string) {
    const k = vars.length;
    return new AnnData({
      X: { dtype: 'float32', data: Float32Array.from({ length: n * k }, (_, i) => i + 0.5), shape: [n, k] },
      obs: new DataFrame({ index: Array.from({ length: n }, (_, i) => `${tag}${i}`) }),
      var: new DataFrame({ index: vars }),
      layers,
      obsm,
    });
  }
  const dense = (dtype: 'float32' | 'float64' | 'int32', n: number, k: number, at: number): Matrix => {
    const values = Array.from({ length: n * k }, (_, i) => at + i);
    const data =
      dtype === 'float32'
        ? Float32Array.from(values)
        : dtype === 'int32'
          ? Int32Array.from(values)
          : Float64Array.from(values);
    return { dtype, data, shape: [n, k] };
  };
  const csr = (n: number, k: number, at: number): Matrix =>
    new CsrMatrix({
      data: Float32Array.from({ length: n }, (_, i) => at + i),
      indices: Int32Array.from({ length: n }, (_, i) => i % k),
      indptr: Int32Array.from({ length: n + 1 }, (_, i) => i),
      shape: [n, k],
      dtype: 'float32',
    });
  const csc = (n: number, k: number, at: number): Matrix =>
    new CscMatrix({
      data: Float64Array.from({ length: k }, (_, j) => at + j),
      indices: Int32Array.from({ length: k }, (_, j) => j % n),
      indptr: Int32Array.from({ length: k + 1 }, (_, j) => j),
      shape: [n, k],
      dtype: 'float64',
    });

  test.each(['outer', 'inner'] as const)(
    '%s join: layers and obsm only some inputs have, of other formats, dtypes and widths',
    async (joinKind) => {
      const dir = tmp();
      const a = ['g0', 'g1', 'g2', 'g3'];
      const b = ['g2', 'g4', 'g0'];
      const parts = [
        part(
          5,
          a,
          { ones: dense('float32', 5, 4, 1), counts: dense('int32', 5, 4, 7), sp: csr(5, 4, 3) },
          { pca: dense('float64', 5, 3, 0.25), onlyA: dense('float32', 5, 2, 9) },
          'a',
        ),
        part(
          4,
          b,
          { ones: dense('float32', 4, 3, 2), mixed: dense('float32', 4, 3, 4) },
          { pca: dense('float64', 4, 2, 5) },
          'b',
        ),
        part(
          3,
          a,
          { ones: dense('float32', 3, 4, 3), counts: dense('int32', 3, 4, 1), mixed: csr(3, 4, 6) },
          { pca: dense('float64', 3, 3, 8), c: csc(3, 5, 2) },
          'c',
        ),
      ];
      const stores = parts.map((_, i) => join(dir, `${i}.zarr`));
      await Promise.all(parts.map((p, i) => writeZarr(stores[i], p, { zarrFormat: i === 1 ? 2 : 3 })));
      const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', 'anndata_concat.py')], {
        input: JSON.stringify({ stores, join: joinKind }),
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`anndata_concat.py failed (${r.status}): ${r.stderr}`);
      const py = (JSON.parse(r.stdout) as { dump: Record<string, Record<string, unknown>> }).dump;
      // two lazy inputs (v3, v2) and one in memory
      const [la, lb] = await Promise.all([readLazy(stores[0]), readLazy(stores[1])]);
      const ours = dumpAnnData(await concat([la, lb, parts[2]], { join: joinKind }).toMemory()) as typeof py;
      const matrices = (d: typeof py) => ({
        shape: d.shape,
        // the index values (pandas 3 keeps them as a nullable string array, we as plain strings)
        var: names(d.var.index),
        obs: names(d.obs.index),
        X: canonicalMatrix(d.X),
        layers: Object.fromEntries(Object.entries(d.layers).map(([k, v]) => [k, canonicalMatrix(v)])),
        obsm: Object.fromEntries(Object.entries(d.obsm).map(([k, v]) => [k, canonicalMatrix(v)])),
      });
      const want = matrices(py);
      expect(Object.keys(want.layers).sort()).toEqual(
        joinKind === 'outer' ? ['counts', 'mixed', 'ones', 'sp'] : ['ones'],
      );
      expect(matrices(ours)).toEqual(want);
    },
  );
});
