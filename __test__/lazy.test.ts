// The lazy reader: readLazy opens with metadata alone, views cost no I/O, and every read returns
// what the eager reader returns for the same selection (checked against the whole object read
// eagerly and subset here). Bad selections and a store changed after open are typed errors.

import { join, join as join_ } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  type AnnData,
  col,
  columnValues,
  concat,
  DataFrame,
  type DenseArray,
  LazyDataFrame,
  LazyMatrix,
  type Matrix,
  readElemLazy,
  readLazy,
  readZarr,
  writeElem,
  writeZarr,
} from '../src-ts/anndata/index.js';
import {
  ConsolidatedStaleError,
  InvalidSelectionError,
  mask,
  NotFoundError,
  OutOfBoundsError,
  openGroup,
  openStore,
  slice,
} from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { sampleAnnData } from './anndata-sample.js';
import { expectError, ROOT, tmp } from './helpers.js';

const N = 40;
const M = 12;

async function written(zarrFormat: 2 | 3, consolidate = true) {
  const path = join(tmp(), 'lazy.zarr');
  const adata = sampleAnnData(N, M);
  await writeZarr(path, adata, { zarrFormat, consolidate, convertStringsToCategoricals: false });
  return { path, adata, eager: await readZarr(path) };
}

/** A matrix as rows of numbers (dense, CSR or CSC alike), to compare values across formats. */
function rowsOf(m: Matrix): number[][] {
  const [n, k] = m.shape;
  const out = Array.from({ length: n }, () => new Array<number>(k).fill(0));
  if ('format' in m) {
    const ptr = Array.from(m.indptr as ArrayLike<number | bigint>, Number);
    const idx = Array.from(m.indices as ArrayLike<number | bigint>, Number);
    for (let major = 0; major + 1 < ptr.length; major++) {
      for (let p = ptr[major]; p < ptr[major + 1]; p++) {
        const [i, j] = m.format === 'csr' ? [major, idx[p]] : [idx[p], major];
        out[i][j] += Number(m.data[p]);
      }
    }
    return out;
  }
  const d = Array.from(m.data as ArrayLike<number>, Number);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i][j] = d[i * k + j];
  return out;
}

const pick = <T>(xs: readonly T[], at: readonly number[]) => at.map((i) => xs[i]);
const pick2 = (m: number[][], r: readonly number[], c: readonly number[]) => pick(m, r).map((row) => pick(row, c));
const range = (a: number, b: number, step = 1) =>
  Array.from({ length: Math.ceil((b - a) / step) }, (_, i) => a + i * step);

describe.each([3, 2] as const)('zarr v%i', (zarrFormat) => {
  test('open: metadata only, then obs/var names; the shape and names match the eager read', async () => {
    const { path, eager } = await written(zarrFormat);
    const bare = await openStore(path);
    const a = await readLazy(bare, { loadIndex: false, zarrFormat });
    // consolidated: the root document holds every element's metadata
    expect(bare.stats()).toMatchObject({ requests: 1 });
    expect(a.shape).toEqual([N, M]);
    expect(() => a.obsNames).toThrow(/index was not loaded/);

    const store = await openStore(path);
    const b = await readLazy(store, { zarrFormat });
    const opened = store.stats().requests;
    // the two index reads cost what reading those arrays directly costs: 1 + 3 chunks here
    const direct = await openStore(path);
    const root = await openGroup(direct, '', { zarrFormat });
    const obsIndex = await (await root.openGroup('obs')).openArray('cell_id');
    const varIndex = await (await root.openGroup('var')).openGroup('_index');
    const parts = [obsIndex, await varIndex.openArray('values'), await varIndex.openArray('mask')];
    direct.resetStats();
    await Promise.all(parts.map((p) => p.get()));
    expect(opened).toBe(1 + direct.stats().requests);
    expect(opened).toBe(4);
    expect(b.obsNames).toEqual(eager.obsNames);
    expect(b.varNames).toEqual(eager.varNames);
    expect(b.obs.columns).toEqual(eager.obs.columns);
    expect(b.obs.indexName).toBe('cell_id');
  });

  test('X, layers, obsm, varm, obsp, varp: slices, unsorted repeated positions and masks on both axes', async () => {
    const { path, eager } = await written(zarrFormat);
    const a = await readLazy(path);
    const rowMask = Array.from({ length: N }, (_, i) => i % 3 === 1);
    const colMask = Array.from({ length: M }, (_, j) => j % 2 === 0);
    const sels: [unknown, unknown, number[], number[]][] = [
      [null, null, range(0, N), range(0, M)],
      [slice(3, 17), null, range(3, 17), range(0, M)],
      [slice(2, 30, 4), slice(1, 9, 3), range(2, 30, 4), range(1, 9, 3)],
      [
        [7, 2, 2, -1],
        [5, 0, 5],
        [7, 2, 2, N - 1],
        [5, 0, 5],
      ],
      [Int32Array.of(9, 8), mask(Uint8Array.from(colMask, Number)), [9, 8], range(0, M, 2)],
      [rowMask, colMask, range(1, N, 3), range(0, M, 2)],
      [5, slice(-3, null), [5], range(M - 3, M)],
    ];
    const dense = eager.layers.dense as DenseArray;
    for (const [rs, cs, r, c] of sels) {
      const want = pick2(rowsOf(dense), r, c);
      // dense, CSR and CSC (X and the CSC layer hold the same values)
      for (const m of [a.layers.dense, a.X, a.layers.csc] as LazyMatrix[]) {
        const got = await m.get(rs as never, cs as never);
        expect(got.shape).toEqual([r.length, c.length]);
        expect(rowsOf(got)).toEqual(want);
        expect('format' in got ? got.format : 'dense').toBe(m.format);
      }
      // int64 indices and indptr
      expect(rowsOf(await (a.obsm.sparse as LazyMatrix).get(rs as never, cs as never))).toEqual(want);
      expect(rowsOf(await (a.obsp.distances as LazyMatrix).get(rs as never, rs as never))).toEqual(
        pick2(rowsOf(eager.obsp.distances as Matrix), r, r),
      );
      expect(rowsOf(await (a.obsm.X_pca as LazyMatrix).get(rs as never))).toEqual(
        pick(rowsOf(eager.obsm.X_pca as Matrix), r),
      );
      expect(rowsOf(await (a.varp.corr as LazyMatrix).get(cs as never, cs as never))).toEqual(
        pick2(rowsOf(eager.varp.corr as Matrix), c, c),
      );
    }
    // a contiguous row range of CSR / CSC reads as CSR / CSC
    const x = (await a.X?.get(slice(4, 11))) as Matrix;
    expect('format' in x && x.format).toBe('csr');
    expect(rowsOf(x)).toEqual(pick(rowsOf(eager.X as Matrix), range(4, 11)));
    const csc = (await (a.layers.csc as LazyMatrix).get(null, slice(2, 5))) as Matrix;
    expect('format' in csc && csc.format).toBe('csc');
    expect(rowsOf(csc)).toEqual(pick2(rowsOf(eager.X as Matrix), range(0, N), range(2, 5)));
    expect(a.X).toMatchObject({ shape: [N, M], dtype: 'float32', format: 'csr' });
  });

  test('columns: only the column is read; a categorical reads its categories once', async () => {
    const { path, eager } = await written(zarrFormat);
    const store = await openStore(path);
    const a = await readLazy(store, { zarrFormat });
    for (const name of eager.obs.columns) {
      const rows = [9, 0, 0, 33];
      const got = await a.obs.column(name).get(rows);
      expect(columnValues(got)).toEqual(pick(columnValues(eager.obs.get(name)), rows));
      expect(got.kind).toBe(eager.obs.get(name).kind);
    }
    store.resetStats();
    await a.obs.column('f32').get();
    // one array, one chunk
    expect(store.stats().requests).toBe(1);
    // a fresh open: the loop above read the categories already
    const cat = (await readLazy(store, { zarrFormat })).obs.column('cat');
    store.resetStats();
    await cat.get(slice(0, 5));
    const first = store.stats().requests;
    store.resetStats();
    await cat.get([7, 3]);
    // codes only: the categories came from the first read
    expect(first).toBe(2);
    expect(store.stats().requests).toBe(1);
    expect(await a.obs.toArrow(slice(0, 3))).toMatchObject({ numRows: 3 });
  });

  test('views compose without I/O; toMemory reads what the view covers and equals the eager subset', async () => {
    const { path, eager } = await written(zarrFormat);
    const store = await openStore(path);
    const a = await readLazy(store, { zarrFormat });
    store.resetStats();
    const v = a.select(slice(5, 35), slice(2, 10)).select([20, 1, 1, 7], [-1, 0]);
    expect(store.stats().requests).toBe(0);
    const r = [25, 6, 6, 12];
    const c = [9, 2];
    expect(v.shape).toEqual([4, 2]);
    expect(v.obsNames).toEqual(pick(eager.obsNames, r));
    expect(v.varNames).toEqual(pick(eager.varNames, c));
    expect(rowsOf(await (v.layers.dense as LazyMatrix).get())).toEqual(pick2(rowsOf(eager.layers.dense), r, c));
    const cat = await v.obs.column('cat').get();
    expect(columnValues(cat)).toEqual(pick(columnValues(eager.obs.get('cat')), r));
    // the obs frame of a view reads only its rows
    const frame = await v.obs.toMemory();
    expect(frame.indexValues).toEqual(pick(eager.obsNames, r));
    expect(columnValues(frame.get('i32'))).toEqual(pick(columnValues(eager.obs.get('i32')), r));
  });

  test('iterate: row blocks that cover the view, prefetching, break and abort', async () => {
    const { path, eager } = await written(zarrFormat);
    const a = await readLazy(path);
    const dense = rowsOf(eager.layers.dense);
    const seen: number[][] = [];
    const names: string[] = [];
    for await (const block of a.select(slice(3, null)).iterate({ batchSize: 7 })) {
      expect(block.nObs).toBeLessThanOrEqual(7);
      seen.push(...rowsOf(block.layers.dense));
      names.push(...block.obsNames);
    }
    expect(seen).toEqual(dense.slice(3));
    expect(names).toEqual(eager.obsNames.slice(3));
    // columns
    let cols = 0;
    for await (const block of a.iterate({ batchSize: 5, axis: 'var' })) cols += block.nVars;
    expect(cols).toBe(M);
    // break stops after one block
    let blocks = 0;
    for await (const _ of a.iterate({ batchSize: 'shard' })) {
      blocks++;
      break;
    }
    expect(blocks).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(
      (async () => {
        for await (const _ of a.iterate({ batchSize: 4, signal: ac.signal })) {
          /* nothing */
        }
      })(),
    ).rejects.toMatchObject({ code: 'Aborted' });
  });

  test('bad selections and unknown columns are typed errors naming the element', async () => {
    const { path } = await written(zarrFormat);
    const a = await readLazy(path);
    const X = a.layers.dense as LazyMatrix;
    await expectError(X.get([N]), OutOfBoundsError, 'layers/dense', /'\/layers\/dense' rows: index 40 is out of range/);
    await expectError(X.get(null, [-M - 1]), OutOfBoundsError, 'layers/dense', /columns/);
    await expectError(X.get([1, Number.NaN]), InvalidSelectionError, 'layers/dense', /NaN, not an integer/);
    await expectError(X.get([1.5]), InvalidSelectionError, 'layers/dense', /1.5/);
    await expectError(X.get(new Array(N + 1).fill(true)), InvalidSelectionError, 'layers/dense', /mask of length 41/);
    await expectError(X.get(slice(0, 4, -1)), InvalidSelectionError, 'layers/dense', /step must be positive/);
    expect(() => a.select([N + 3])).toThrow(OutOfBoundsError);
    expect(() => a.select(null, new Array(M - 1).fill(false))).toThrow(/'\/' var: a mask of length 11/);
    expect(() => a.obs.column('nope')).toThrow(NotFoundError);
    expect(() => a.obs.column('nope')).toThrow(/'\/obs' has no column 'nope'/);
    // a view's positions are checked against the view, not the store
    await expectError(a.select(slice(0, 4)).obs.column('f32').get([4]), OutOfBoundsError, 'obs/f32');
  });

  test('a store changed after open is detected (ConsolidatedStale), not read as wrong data', async () => {
    const { path } = await written(zarrFormat);
    const a = await readLazy(path);
    const obs = await openGroup(path, 'obs', { mode: 'r+' });
    await writeElem(obs, 'f32', col.numeric(new Float32Array(5000).fill(1)), { consolidate: true });
    await expectError(a.obs.column('f32').get(), ConsolidatedStaleError, 'obs/f32', /changed after it was opened/);
    // the rest still reads
    expect((await a.obs.column('i32').get()).kind).toBe('numeric');
    // a sparse X replaced by a larger one: its take fails against the old metadata
    const root = await openGroup(path, '', { mode: 'r+' });
    await writeElem(root, 'X', sampleAnnData(N * 50, M).X, { consolidate: true });
    await expectError((a.X as LazyMatrix).get([3, 1]), ConsolidatedStaleError, 'X/data');
  });
});

/**
 * Requests of a lazy open of the sample without consolidated metadata (v3: zarr.json; v2:
 * .zarray / .zgroup / .zattrs). A child the layout names is probed by opening it, so its
 * metadata is read once (was 220 / 682 when probing and opening read it twice); what remains
 * above one read per node: a child of the other kind than its name suggests (a categorical
 * column is a group: a failed array open first), an absent one (the open, then its metadata
 * probe), and the entries of listed dict groups (uns, layers, obsm, ...), whose native listing
 * reads each entry's metadata for its kind before it is opened.
 */
const UNCONSOLIDATED_OPEN = { 2: 494, 3: 169 };

describe('stores without consolidated metadata', () => {
  afterEach(() => vi.restoreAllMocks());

  test.each([3, 2] as const)('v%i: works, warns once, probes only what the layout names', async (zarrFormat) => {
    const { path, eager } = await written(zarrFormat, false);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const store = await openStore(path);
    const a = await readLazy(store, { zarrFormat, loadIndex: false });
    // the root, then per element the keys its layout names (X, obs, var and their parts, the
    // columns column-order lists), probed and opened; only the dict groups (obsm, layers,
    // uns, ...) are listed, as nothing else names their entries
    expect(store.stats().requests).toBe(UNCONSOLIDATED_OPEN[zarrFormat]);
    expect((await readLazy(path)).obsNames).toEqual(eager.obsNames);
    expect(
      warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'ZARRS_NODE_UNCONSOLIDATED'),
    ).toHaveLength(1);
    expect(dumpAnnData(await a.toMemory())).toEqual(dumpAnnData(eager));
  });
});

test('readElemLazy: a matrix, a dataframe, an AnnData', async () => {
  const { path, eager } = await written(3);
  const root = await openGroup(path);
  const m = await readElemLazy(await root.openGroup('layers').then((g) => g.openArray('dense')));
  expect(m).toBeInstanceOf(LazyMatrix);
  expect(rowsOf(await (m as LazyMatrix).get([1]))).toEqual([rowsOf(eager.layers.dense)[1]]);
  const f = await readElemLazy(await root.openGroup('obs'));
  expect(f).toBeInstanceOf(LazyDataFrame);
  expect((f as LazyDataFrame).indexValues).toEqual(eager.obsNames);
  const ad = (await readElemLazy(root)) as { toMemory(): Promise<AnnData> };
  expect(dumpAnnData(await ad.toMemory())).toEqual(dumpAnnData(eager));
});

test('the README two-liner: rows by a predicate on an obs column (pbmc68k, v3 sharded)', async () => {
  const path = join(ROOT, '__test__', 'fixtures', 'pbmc68k', 'v3.zarr');
  const a = await readLazy(path);
  const keep = columnValues(await a.obs.column('bulk_labels').get()).map((v) => v === 'CD14+ Monocyte');
  const monocytes = await a.select(keep).toMemory();
  const eager = await readZarr(path);
  const labels = columnValues(eager.obs.get('bulk_labels'));
  const rows = labels.flatMap((v, i) => (v === 'CD14+ Monocyte' ? [i] : []));
  expect(rows.length).toBeGreaterThan(10);
  expect(monocytes.obsNames).toEqual(pick(eager.obsNames, rows));
  expect(columnValues(monocytes.obs.get('bulk_labels'))).toEqual(rows.map(() => 'CD14+ Monocyte'));
  expect(rowsOf(monocytes.X as Matrix)).toEqual(pick(rowsOf(eager.X as Matrix), rows));
  expect(rowsOf(monocytes.raw?.X as Matrix)).toEqual(pick(rowsOf(eager.raw?.X as Matrix), rows));
});

describe('concat along obs', () => {
  /** An AnnData whose var names are `names` (X: a dense-backed CSR, layers.dense). */
  function withVars(n: number, names: string[]) {
    const a = sampleAnnData(n, names.length);
    a.var = new DataFrame({ index: names });
    a.raw = null;
    return a;
  }

  test.each(['inner', 'outer'] as const)('%s join of lazy and in-memory objects, var aligned by name', async (join) => {
    const dir = tmp();
    const parts = [
      withVars(10, ['g0', 'g1', 'g2', 'g3']),
      withVars(6, ['g3', 'g9', 'g0', 'g2']),
      withVars(3, ['g2', 'g0', 'g3', 'g7']),
    ];
    // one column only some inputs have
    parts[1].obs.set('only1', col.numeric(Float64Array.from({ length: 6 }, (_, i) => i + 0.5)));
    await writeZarr(join_(dir, 'a.zarr'), parts[0], { convertStringsToCategoricals: false });
    await writeZarr(join_(dir, 'b.zarr'), parts[1], { zarrFormat: 2, convertStringsToCategoricals: false });
    const [a, b] = await Promise.all([readLazy(join_(dir, 'a.zarr')), readLazy(join_(dir, 'b.zarr'))]);
    const store = await openStore(join_(dir, 'a.zarr'));
    const la = await readLazy(store);
    store.resetStats();
    const c = concat([la, b.select(slice(1, 6)), parts[2]], { join, label: 'batch', keys: ['a', 'b', 'c'] });
    expect(store.stats().requests).toBe(0);
    const names = join === 'inner' ? ['g0', 'g2', 'g3'] : ['g0', 'g1', 'g2', 'g3', 'g9', 'g7'];
    expect(c.varNames).toEqual(names);
    expect(c.nObs).toBe(10 + 5 + 3);
    const m = await c.toMemory();
    expect(m.varNames).toEqual(names);
    expect(m.obsNames).toEqual([...a.obsNames, ...b.obsNames.slice(1), ...parts[2].obsNames]);
    // expected rows: each input's dense values placed by var name (missing: NaN in dense)
    const expectRows = (fill: number) =>
      [parts[0], parts[1], parts[2]].flatMap((p, k) => {
        const rows = rowsOf(p.layers.dense).slice(k === 1 ? 1 : 0);
        const pos = names.map((g) => p.varNames.indexOf(g));
        return rows.map((r) => pos.map((j) => (j < 0 ? fill : r[j])));
      });
    expect(rowsOf(m.layers.dense)).toEqual(expectRows(Number.NaN));
    expect(rowsOf(m.X as Matrix)).toEqual(expectRows(0));
    expect('format' in (m.X as Matrix) && (m.X as { format: string }).format).toBe('csr');
    expect(columnValues(m.obs.get('batch'))).toEqual([...'a'.repeat(10), ...'b'.repeat(5), ...'c'.repeat(3)]);
    expect(columnValues(m.obs.get('cat'))).toEqual([
      ...columnValues(parts[0].obs.get('cat')),
      ...columnValues(parts[1].obs.get('cat')).slice(1),
      ...columnValues(parts[2].obs.get('cat')),
    ]);
    expect(m.obs.has('only1')).toBe(join === 'outer');
    if (join === 'outer') {
      expect(columnValues(m.obs.get('only1'))).toEqual([
        ...new Array(10).fill(Number.NaN),
        1.5,
        2.5,
        3.5,
        4.5,
        5.5,
        ...new Array(3).fill(Number.NaN),
      ]);
    }
    expect(Object.keys(m.obsm).sort()).toEqual(['X_pca', 'sparse']);
    expect(() => concat([la], { axis: 1 as never })).toThrow(/only axis 'obs'/);
  });
});
