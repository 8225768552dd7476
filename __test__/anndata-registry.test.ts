// The registry's two phases: describe (metadata only: no chunk read, no request on a
// consolidated store) and materialize (all of an element, or a selection of its rows/columns).

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  type AnnData,
  type Column,
  columnValues,
  type DataFrame,
  type DenseArray,
  readDispatched,
  readElem,
  type Sparse,
  writeZarr,
} from '../src-ts/anndata/index.js';
import { ReadCtx } from '../src-ts/anndata/registry.js';
import { mask, openGroup, openStore, slice, UnsupportedError } from '../src-ts/index.js';
import { sampleAnnData } from './anndata-sample.js';
import { tmp } from './helpers.js';

async function written(zarrFormat: 2 | 3) {
  const path = join(tmp(), 'reg.zarr');
  await writeZarr(path, sampleAnnData(), { zarrFormat });
  const store = await openStore(path);
  const root = await openGroup(store, '');
  return { store, root };
}

/** Rows `rows` of a column's values, picked from the whole column. */
function pick(c: Column, rows: number[]) {
  const v = columnValues(c);
  return rows.map((i) => v[i]);
}

describe.each([2, 3] as const)('zarr v%i', (zarrFormat) => {
  test('a dispatch callback that skips elements costs no request for them', async () => {
    const { store, root } = await written(zarrFormat);
    store.resetStats();
    await readElem(await root.openGroup('obs'));
    const obsOnly = store.stats().requests;
    expect(obsOnly).toBeGreaterThan(0);
    store.resetStats();
    const skipped: string[] = [];
    const back = (await readDispatched(root, async (read, name, node) => {
      if (node.path === '' || node.path === 'obs' || node.path.startsWith('obs/')) return read(node);
      skipped.push(name);
      return undefined; // absent
    })) as AnnData;
    // the same chunk reads as reading obs alone: nothing of X, layers, uns, ... was touched
    expect(store.stats().requests).toBe(obsOnly);
    expect(skipped.sort()).toEqual(['X', 'layers', 'obsm', 'obsp', 'raw', 'uns', 'var', 'varm', 'varp']);
    expect(back.X).toBeNull();
    expect(back.obs.nRows).toBe(6);
  });

  test('describing a consolidated AnnData costs no request and reads no chunk', async () => {
    const { store, root } = await written(zarrFormat);
    store.resetStats();
    const ctx = new ReadCtx();
    const desc = await ctx.describeNode(root);
    expect(store.stats()).toMatchObject({ requests: 0, bytesRead: 0 });
    expect(desc).toMatchObject({ kind: 'anndata', shape: [6, 5], spec: { encodingType: 'anndata' } });
    const { X, obs, obsm, uns } = desc.children;
    expect(X).toMatchObject({ kind: 'sparse', shape: [6, 5], dtype: 'float32' });
    expect(Object.keys(X.arrays).sort()).toEqual(['data', 'indices', 'indptr']);
    expect(obs).toMatchObject({ kind: 'dataframe', shape: [6, sampleAnnData().obs.columns.length] });
    expect(obs.children.cat).toMatchObject({ kind: 'column', shape: [6], spec: { encodingType: 'categorical' } });
    expect(obs.children.nint).toMatchObject({ kind: 'column', shape: [6], dtype: 'int32' });
    expect(obsm.children.X_pca).toMatchObject({ kind: 'dense', shape: [6, 2], dtype: 'float64' });
    expect(uns.children.f32).toMatchObject({ kind: 'scalar', shape: [], dtype: 'float32' });
    expect(uns.children.nothing.kind).toBe('null');
  });

  test('a dataframe materializes a row slice, integer rows or a mask', async () => {
    const { root } = await written(zarrFormat);
    const ctx = new ReadCtx();
    const desc = await ctx.describeNode(await root.openGroup('obs'));
    const all = (await ctx.materialize(desc)) as DataFrame;
    for (const [sel, rows] of [
      [slice(1, 4), [1, 2, 3]],
      [Int32Array.from([5, 0, 2]), [5, 0, 2]],
      [mask([true, false, false, true, false, true]), [0, 3, 5]],
    ] as const) {
      const part = (await ctx.materialize(desc, [sel])) as DataFrame;
      expect(part.columns).toEqual(all.columns);
      expect(part.indexValues).toEqual(rows.map((i) => all.indexValues[i]));
      for (const name of all.columns) {
        expect(part.get(name).kind).toBe(all.get(name).kind);
        expect(columnValues(part.get(name))).toEqual(pick(all.get(name), [...rows]));
      }
    }
  });

  test('a dense matrix materializes rows and columns; containers refuse a selection', async () => {
    const { root } = await written(zarrFormat);
    const ctx = new ReadCtx();
    const layers = await ctx.describeNode(await root.openGroup('layers'));
    const dense = layers.children.dense;
    const whole = (await ctx.materialize(dense)) as DenseArray;
    const part = (await ctx.materialize(dense, [slice(2, 5), [4, 0]])) as DenseArray;
    expect(part.shape).toEqual([3, 2]);
    const at = (r: number, c: number) => (whole.data as Float32Array)[r * 5 + c];
    expect(Array.from(part.data as Float32Array)).toEqual([at(2, 4), at(2, 0), at(3, 4), at(3, 0), at(4, 4), at(4, 0)]);
    await expect(ctx.materialize(layers, [slice(0, 1)])).rejects.toThrow(UnsupportedError);
    await expect(ctx.materialize(layers.children.csc, [[9]])).rejects.toThrow(/'\/layers\/csc' rows: index 9/);
  });

  test('csr and csc materialize a slice of the major axis, and any selection through the native take', async () => {
    const { root } = await written(zarrFormat);
    const ctx = new ReadCtx();
    const adata = await ctx.describeNode(root);
    const dense = (await ctx.materialize(adata.children.layers.children.dense)) as DenseArray;
    const at = (r: number, c: number) => (dense.data as Float32Array)[r * 5 + c];
    /** The sparse matrix as row-major values. */
    const densify = (m: Sparse) => {
      const [rows, cols] = m.shape;
      const out = new Float32Array(rows * cols);
      for (let j = 0; j < m.indptr.length - 1; j++) {
        for (let k = Number(m.indptr[j]); k < Number(m.indptr[j + 1]); k++) {
          const i = Number(m.indices[k]);
          out[m.format === 'csr' ? j * cols + i : i * cols + j] = Number(m.data[k]);
        }
      }
      return Array.from(out);
    };
    const rows = (await ctx.materialize(adata.children.X, [slice(1, 4)])) as Sparse;
    expect(rows.shape).toEqual([3, 5]);
    expect(densify(rows)).toEqual(Array.from({ length: 15 }, (_, k) => at(1 + Math.floor(k / 5), k % 5)));
    const csc = adata.children.layers.children.csc;
    const cols = (await ctx.materialize(csc, [null, slice(-2, null)])) as Sparse;
    expect(cols.shape).toEqual([6, 2]);
    expect(densify(cols)).toEqual(Array.from({ length: 12 }, (_, k) => at(Math.floor(k / 2), 3 + (k % 2))));
    const none = (await ctx.materialize(adata.children.X, [slice(2, 2)])) as Sparse;
    expect([none.shape, none.nnz]).toEqual([[0, 5], 0]);
    // positions (unsorted, repeated) and a minor-axis selection, in the asked order
    const taken = (await ctx.materialize(adata.children.X, [
      [4, 0, 4],
      [3, 0],
    ])) as Sparse;
    expect(taken.format).toBe('csr');
    expect(densify(taken)).toEqual([4, 0, 4].flatMap((r) => [at(r, 3), at(r, 0)]));
    const byRows = (await ctx.materialize(csc, [slice(0, 2), mask(Uint8Array.of(1, 0, 0, 1, 1))])) as Sparse;
    expect(byRows.format).toBe('csc');
    expect(densify(byRows)).toEqual([0, 1].flatMap((r) => [at(r, 0), at(r, 3), at(r, 4)]));
  });
});
