// takeSparse on CSR and CSC matrices python anndata 0.13.4 wrote (v2 unsharded, v3 sharded:
// __test__/fixtures/sparse-take) and on pbmc68k's raw/X, against scipy's X[rows][:, cols]
// computed live from the same store; bad input as typed errors; and the requests a take of a
// few rows costs, locally and on S3 (moto).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  AbortedError,
  InvalidInputError,
  InvalidMetadataError,
  InvalidSelectionError,
  type MinorSelection,
  OutOfBoundsError,
  openArray,
  openStore,
  type SparseTake,
  type Store,
  takeSparse,
  type ZArray,
} from '../src-ts/index.js';
import { PYTHON_013, ROOT, skipWithoutPython } from './helpers.js';
import { type S3Server, startS3 } from './servers.js';

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'sparse-take');
const STORES = ['v2.zarr', 'v3.zarr'];
const [N_OBS, N_VAR] = [400, 150];

interface Matrix {
  data: ZArray;
  indices: ZArray;
  indptr: Int32Array | BigInt64Array;
}

async function openMatrix(store: Store, elem: string): Promise<Matrix> {
  const [data, indices, indptr] = await Promise.all(
    ['data', 'indices', 'indptr'].map((n) => openArray(store, `${elem}/${n}`)),
  );
  return { data, indices, indptr: (await indptr.get()).data as Int32Array | BigInt64Array };
}

interface Canonical {
  indptr: number[];
  indices: number[];
  data: number[];
}

/** indptr/indices/data as plain numbers, indices sorted within each major position. */
function canonical(t: SparseTake): Canonical {
  const ptr = Array.from(t.indptr, Number);
  const out: Canonical = { indptr: ptr, indices: [], data: [] };
  for (let r = 0; r + 1 < ptr.length; r++) {
    const pairs: [number, number][] = [];
    for (let k = ptr[r]; k < ptr[r + 1]; k++) pairs.push([Number(t.indices[k]), Number(t.data[k])]);
    pairs.sort((a, b) => a[0] - b[0]);
    for (const [i, v] of pairs) {
      out.indices.push(i);
      out.data.push(v);
    }
  }
  return out;
}

/** Rows with duplicates, out of order, empty rows (multiples of 7) and a negative position. */
const ROWS = [399, 14, 3, 3, 0, 250, -1, 7, 8, 9, 120, 3];
const COLS = [149, 3, 3, 77, -1, 0, 42, 100];
const CASES: { elem: string; major: number[]; minor: MinorSelection | null; minorLength: number }[] = [
  { elem: 'X', major: ROWS, minor: null, minorLength: N_VAR },
  { elem: 'X', major: ROWS, minor: { start: 10, stop: 90 }, minorLength: N_VAR },
  { elem: 'X', major: ROWS, minor: COLS, minorLength: N_VAR },
  { elem: 'X', major: [], minor: COLS, minorLength: N_VAR },
  { elem: 'X', major: [0, 7, 14], minor: null, minorLength: N_VAR },
  // CSC: columns gathered, rows filtered
  { elem: 'layers/csc', major: [149, 0, 0, 77, 5], minor: null, minorLength: N_OBS },
  { elem: 'layers/csc', major: [149, 0, 0, 77, 5], minor: [399, 1, 1, 200, 7, 56], minorLength: N_OBS },
  { elem: 'layers/csc', major: [3, 2, 1], minor: { start: 100, stop: 300 }, minorLength: N_OBS },
];

function reference(store: string, cases: { elem: string; major: number[]; minor: MinorSelection | null }[]) {
  const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', 'sparse_take.py'), store], {
    input: JSON.stringify(cases.map((c) => ({ elem: c.elem, major: c.major, minor: c.minor }))),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`sparse_take.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as (Canonical & { shape: [number, number] })[];
}

describe.each(STORES)('%s', (name) => {
  let store: Store;
  const matrices = new Map<string, Matrix>();
  beforeAll(async () => {
    store = await openStore(join(FIXTURES, name), { readOnly: true });
    for (const elem of ['X', 'layers/csc']) matrices.set(elem, await openMatrix(store, elem));
  });

  describe.skipIf(skipWithoutPython(PYTHON_013))('against scipy', () => {
    test('every case equals X[rows][:, cols] (CSC: M[:, cols][rows, :])', async () => {
      const want = reference(join(FIXTURES, name), CASES);
      for (const [i, c] of CASES.entries()) {
        const m = matrices.get(c.elem) as Matrix;
        const minor = c.minor ?? undefined;
        const got = await takeSparse(m.data, m.indices, m.indptr, c.major, minor, { minorLength: c.minorLength });
        const { shape, ...values } = want[i];
        expect(canonical(got), `case ${i}: ${JSON.stringify(c)}`).toEqual(values);
        const width =
          c.minor === null ? c.minorLength : 'start' in c.minor ? c.minor.stop - c.minor.start : c.minor.length;
        expect(c.elem === 'X' ? shape : [...shape].reverse()).toEqual([c.major.length, width]);
        // a list minor selection comes back with sorted indices, without canonicalizing
        if (Array.isArray(c.minor)) expect(Array.from(got.indices, Number)).toEqual(want[i].indices);
      }
    });
  });

  test('dtypes: data as stored, indices and indptr int32 as stored', async () => {
    const x = matrices.get('X') as Matrix;
    const t = await takeSparse(x.data, x.indices, x.indptr, new Uint32Array([5, 1]), COLS, { minorLength: N_VAR });
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.indices).toBeInstanceOf(Int32Array);
    expect(t.indptr).toBeInstanceOf(Int32Array);
    const csc = matrices.get('layers/csc') as Matrix;
    const wide = BigInt64Array.from(csc.indptr as Int32Array, (v) => BigInt(v));
    const c = await takeSparse(csc.data, csc.indices, wide, [1]);
    expect(c.data).toBeInstanceOf(Float64Array);
    expect(c.indptr).toBeInstanceOf(Int32Array);
  });

  test('bad input is a typed error naming the matrix', async () => {
    const x = matrices.get('X') as Matrix;
    const take = (major: number[], minor?: MinorSelection, minorLength: number | undefined = N_VAR, ptr = x.indptr) =>
      takeSparse(x.data, x.indices, ptr, major, minor, { minorLength });
    await expect(take([400])).rejects.toThrow(OutOfBoundsError);
    await expect(take([-401])).rejects.toThrow(/'X': major index -401 is out of bounds for length 400/);
    await expect(take([1.5])).rejects.toThrow(InvalidSelectionError);
    await expect(take([Number.NaN])).rejects.toThrow(InvalidSelectionError);
    await expect(take([1], [150])).rejects.toThrow(OutOfBoundsError);
    await expect(take([1], { start: 5, stop: 2 })).rejects.toThrow(InvalidSelectionError);
    await expect(take([1], { start: 0, stop: 151 })).rejects.toThrow(OutOfBoundsError);
    await expect(takeSparse(x.data, x.indices, x.indptr, [1], [1])).rejects.toThrow(InvalidInputError);
    await expect(take([1], { start: 0 } as never)).rejects.toThrow(InvalidInputError);
    await expect(
      takeSparse(x.data, x.indices, Float64Array.from(x.indptr as Int32Array) as never, [1]),
    ).rejects.toThrow(InvalidInputError);
    const decreasing = Int32Array.from(x.indptr as Int32Array);
    decreasing[11] = decreasing[10] - 1;
    const e = await take([10], undefined, N_VAR, decreasing).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidMetadataError);
    expect((e as Error).message).toMatch(/'X\/indptr'/);
    const past = Int32Array.from(x.indptr as Int32Array);
    past[400] += 1;
    await expect(take([399], undefined, N_VAR, past)).rejects.toThrow(InvalidMetadataError);
    // a minor axis shorter than the stored indices: caught even without a minor selection
    await expect(take([1, 2], undefined, 10)).rejects.toThrow(/'X\/indices' holds \d+, outside the minor axis/);
    // data and indices swapped: float "indices"
    await expect(takeSparse(x.indices, x.data, x.indptr, [1])).rejects.toThrow(InvalidMetadataError);
    await expect(
      takeSparse(x.data, x.indices, x.indptr, [1], undefined, { signal: AbortSignal.abort() }),
    ).rejects.toThrow(AbortedError);
    const ctrl = new AbortController();
    const all = Array.from({ length: N_OBS }, (_, r) => r);
    const running = takeSparse(x.data, x.indices, x.indptr, all, undefined, { signal: ctrl.signal });
    ctrl.abort();
    await expect(running).rejects.toThrow(AbortedError);
  });
});

describe.skipIf(skipWithoutPython(PYTHON_013))('pbmc68k raw/X (real data, anndata 0.13.4)', () => {
  test.each(['v2.zarr', 'v3.zarr'])('%s: rows and genes as scipy takes them', async (name) => {
    const path = join(ROOT, '__test__', 'fixtures', 'pbmc68k', name);
    const store = await openStore(path, { readOnly: true });
    const x = await openMatrix(store, 'raw/X');
    const cases = [
      { elem: 'raw/X', major: [699, 0, 350, 350, 12, -2], minor: null },
      { elem: 'raw/X', major: [699, 0, 350, 350, 12, -2], minor: [764, 0, 100, 100, 5] },
      { elem: 'raw/X', major: [10, 9, 8], minor: { start: 200, stop: 600 } },
    ];
    const want = reference(path, cases);
    for (const [i, c] of cases.entries()) {
      const got = await takeSparse(x.data, x.indices, x.indptr, c.major, c.minor ?? undefined, { minorLength: 765 });
      const { shape: _, ...values } = want[i];
      expect(canonical(got), JSON.stringify(c)).toEqual(values);
    }
    store.close();
  });
});

describe('requests (v3 sharded)', () => {
  test('a take of a few rows reads exactly the inner chunks that cover them', async () => {
    const store = await openStore(join(FIXTURES, 'v3.zarr'), { readOnly: true });
    const x = await openMatrix(store, 'X');
    const inner = x.data.chunks[0];
    expect(x.data.shards).not.toBeNull();
    expect(x.indices.chunks[0]).toBe(inner);
    const rows = [250, 3, 251];
    const covering = new Set<number>();
    for (const r of rows) {
      const [lo, hi] = [Number(x.indptr[r]), Number(x.indptr[r + 1])];
      for (let c = Math.floor(lo / inner); lo < hi && c <= Math.floor((hi - 1) / inner); c++) covering.add(c);
    }
    expect(covering.size).toBe(2);
    store.resetStats();
    await takeSparse(x.data, x.indices, x.indptr, rows);
    // first take: the shard indexes too (fetched, checked, and by each decode that misses the cache)
    const first = store.stats();
    expect(first.requests).toBeLessThanOrEqual(2 * (3 * covering.size + 2));
    store.resetStats();
    await takeSparse(x.data, x.indices, x.indptr, rows, [1, 2], { minorLength: N_VAR });
    // shard indexes cached: one request per covering inner chunk of data and of indices
    const st = store.stats();
    expect(st.requests).toBe(2 * covering.size);
    const stored = (await x.data.info()).nbytesStored + (await x.indices.info()).nbytesStored;
    expect(st.bytesRead * 4).toBeLessThan(stored);
    store.close();
  });
});

describe('requests on S3 (moto)', () => {
  let server: S3Server;
  const stores = new Map<string, Store>();
  beforeAll(async () => {
    server = await startS3();
    for (const name of STORES) {
      const s3 = await openStore(`s3://${server.bucket}/sparse-take/${name}`, {
        endpoint: server.endpoint,
        allowHttp: true,
        accessKeyId: server.accessKeyId,
        secretAccessKey: server.secretAccessKey,
        region: 'us-east-1',
      });
      const local = await openStore(join(FIXTURES, name), { readOnly: true });
      for (const key of await local.list('X')) await s3.set(key, (await local.get(key)) as Uint8Array);
      local.close();
      stores.set(name, s3);
    }
  });
  afterAll(async () => {
    for (const s of stores.values()) s.close();
    await server?.stop();
  });

  /** The inner chunks (chunks when unsharded) and shards holding `rows` of `x`. */
  function covering(x: Matrix, rows: number[]) {
    const inner = x.data.chunks[0];
    const shard = x.data.shards?.[0] ?? inner;
    const chunks = new Set<number>();
    for (const r of rows) {
      const [lo, hi] = [Number(x.indptr[r]), Number(x.indptr[r + 1])];
      // an empty row needs no chunk
      for (let c = Math.floor(lo / inner); lo < hi && c <= Math.floor((hi - 1) / inner); c++) chunks.add(c);
    }
    return { chunks: chunks.size, shards: new Set([...chunks].map((c) => Math.floor((c * inner) / shard))).size };
  }

  async function localTake(name: string, rows: number[]) {
    const local = await openStore(join(FIXTURES, name), { readOnly: true });
    const lx = await openMatrix(local, 'X');
    const t = await takeSparse(lx.data, lx.indices, lx.indptr, rows);
    local.close();
    return canonical(t);
  }

  test('v3 sharded: one batch of shard indexes, then one GET per covering inner chunk', async () => {
    const s3 = stores.get('v3.zarr') as Store;
    const x = await openMatrix(s3, 'X');
    const rows = [250, 3, 251];
    const { chunks, shards } = covering(x, rows);
    // the fixture's rows sit in two inner chunks of two different shards
    expect([chunks, shards]).toEqual([2, 2]);
    s3.resetStats();
    const first = await takeSparse(x.data, x.indices, x.indptr, rows);
    // per array: the two shard indexes, then the two inner chunks
    expect(s3.stats().requests).toBe(2 * (shards + chunks));
    s3.resetStats();
    const again = await takeSparse(x.data, x.indices, x.indptr, rows);
    expect(s3.stats().requests).toBe(2 * chunks);
    const want = await localTake('v3.zarr', rows);
    expect(canonical(first)).toEqual(want);
    expect(canonical(again)).toEqual(want);
  });

  test('v2 unsharded: one GET per covering chunk (prefetched together, none fetched twice)', async () => {
    const s3 = stores.get('v2.zarr') as Store;
    const x = await openMatrix(s3, 'X');
    expect(x.data.shards).toBeNull();
    const rows = [399, 250, 3, 251, 120, 3];
    const { chunks } = covering(x, rows);
    expect(chunks).toBeGreaterThanOrEqual(3);
    s3.resetStats();
    const got = await takeSparse(x.data, x.indices, x.indptr, rows, [0, 1, 2, 149], { minorLength: N_VAR });
    expect(s3.stats().requests).toBe(2 * chunks);
    const local = await openStore(join(FIXTURES, 'v2.zarr'), { readOnly: true });
    const lx = await openMatrix(local, 'X');
    const want = await takeSparse(lx.data, lx.indices, lx.indptr, rows, [0, 1, 2, 149], { minorLength: N_VAR });
    local.close();
    expect(canonical(got)).toEqual(canonical(want));
  });
});
