// Arrays through the public API: every dtype in every layout, every selection kind checked
// against a reference computed in JS, writes, resize/append, metadata, threads and abort.
import { describe, expect, test } from 'vitest';
import {
  type CreateArrayOptions,
  createArray,
  type DataType,
  getThreads,
  InvalidInputError,
  InvalidSelectionError,
  mask,
  OutOfBoundsError,
  openArray,
  openStore,
  setThreads,
  slice,
  ZarrsError,
} from '../src-ts/index.js';
import { DTYPES, makeData, plain, tmp } from './helpers.js';

const SHAPE = [13, 17];
const N = SHAPE[0] * SHAPE[1];

const LAYOUTS: Record<string, Partial<CreateArrayOptions>> = {
  'v2 zstd': { zarrFormat: 2, chunks: [4, 5] },
  'v2 blosc F-order': { zarrFormat: 2, chunks: [4, 5], compressors: 'blosc:zstd:3', order: 'F' },
  'v2 gzip': { zarrFormat: 2, chunks: [5, 4], compressors: 'gzip' },
  'v3 zstd': { chunks: [4, 5] },
  'v3 uncompressed': { chunks: [4, 5], compressors: null },
  'v3 sharded': { chunks: [2, 5], shards: [4, 10] },
  'v3 sharded zstd+crc32c auto': { chunks: [3, 3], shards: 'auto', compressors: ['zstd:1', 'crc32c'] },
};

/** Reference orthogonal indexing over the flat C-order data. */
function pick(all: unknown[], rows: number[], cols: number[]): unknown[] {
  return rows.flatMap((r) => cols.map((c) => all[r * SHAPE[1] + c]));
}
const range = (start: number, stop: number, step = 1) =>
  Array.from({ length: Math.max(0, Math.ceil((stop - start) / step)) }, (_, i) => start + i * step);

describe.each(Object.entries(LAYOUTS))('%s', (label, layout) => {
  test.each(DTYPES.filter((d) => !(d === 'string' && label.includes('blosc'))))('%s round trips', async (dtype) => {
    const dir = tmp();
    const data = makeData(dtype, N);
    const a = await createArray(dir, 'a', { shape: SHAPE, dtype, ...layout });
    await a.set(null, data as never);
    const b = await openArray(dir, 'a');
    expect(b.dtype).toBe(dtype);
    expect(b.shape).toEqual(SHAPE);
    const all = plain(dtype, data);

    const whole = await b.get();
    expect(whole.shape).toEqual(SHAPE);
    expect(plain(dtype, whole.data)).toEqual(all);

    const strided = await b.get([slice(1, null, 3), slice(null, -2, 4)]);
    expect(strided.shape).toEqual([4, 4]);
    expect(plain(dtype, strided.data)).toEqual(pick(all, range(1, 13, 3), range(0, 15, 4)));

    // Unaligned blocks: over many chunks, and inside one (parts of chunks, read whole or by runs).
    const block = await b.get([slice(1, 11), slice(2, 14)]);
    expect(block.shape).toEqual([10, 12]);
    expect(plain(dtype, block.data)).toEqual(pick(all, range(1, 11), range(2, 14)));
    const corner = b.getSync([slice(1, 3), slice(1, 4)]);
    expect(plain(dtype, corner.data)).toEqual(pick(all, [1, 2], [1, 2, 3]));

    const row = b.getSync([-1, slice(2, 15)]);
    expect(row.shape).toEqual([13]);
    expect(plain(dtype, row.data)).toEqual(pick(all, [12], range(2, 15)));

    const ortho = await b.getOrthogonal([[12, 0, 5, 5, -2], mask(range(0, 17).map((i) => i % 4 === 1))]);
    expect(ortho.shape).toEqual([5, 4]);
    expect(plain(dtype, ortho.data)).toEqual(pick(all, [12, 0, 5, 5, 11], [1, 5, 9, 13]));

    const pts = await b.getCoordinates([
      [0, 12, 7, 7],
      [16, 0, 3, 3],
    ]);
    expect(pts.shape).toEqual([4]);
    expect(plain(dtype, pts.data)).toEqual([all[16], all[12 * 17], all[7 * 17 + 3], all[7 * 17 + 3]]);
  });
});

test('typed results: bool, int64, float16 and strings use the documented JS types', async () => {
  const expected: Partial<Record<DataType, string>> = {
    bool: 'Uint8Array',
    int8: 'Int8Array',
    int16: 'Int16Array',
    int32: 'Int32Array',
    int64: 'BigInt64Array',
    uint8: 'Uint8Array',
    uint16: 'Uint16Array',
    uint32: 'Uint32Array',
    uint64: 'BigUint64Array',
    float16: 'Uint16Array',
    float32: 'Float32Array',
    float64: 'Float64Array',
    string: 'Array',
  };
  for (const dtype of DTYPES) {
    const a = await createArray('memory://types', dtype, { shape: [3], dtype, overwrite: true });
    expect((await a.get()).data.constructor.name).toBe(expected[dtype]);
  }
});

test('fill values, scalars broadcast, strided writes and partial shards', async () => {
  const a = await createArray('memory://writes', 'f', {
    shape: [10, 10],
    dtype: 'float64',
    chunks: [3, 3],
    shards: [6, 6],
    fillValue: Number.NaN,
  });
  expect(Number.isNaN(a.fillValue as number)).toBe(true);
  expect(Array.from((await a.get([0, slice(0, 2)])).data).every(Number.isNaN)).toBe(true);
  await a.set([slice(null, null, 3), slice(1, null, 4)], 2.5);
  await a.set([4, slice(2, 5)], new Float64Array([1, 2, 3]));
  a.setSync([9, 9], -1);
  const all = (await a.get()).data;
  for (let r = 0; r < 10; r++) {
    for (let c = 0; c < 10; c++) {
      const v = all[r * 10 + c];
      if (r === 9 && c === 9) expect(v).toBe(-1);
      else if (r === 4 && c >= 2 && c < 5) expect(v).toBe(c - 1);
      else if (r % 3 === 0 && c % 4 === 1) expect(v).toBe(2.5);
      else expect(Number.isNaN(v)).toBe(true);
    }
  }
  const big = await createArray('memory://writes', 'i64', { shape: [2], dtype: 'int64', fillValue: -(2n ** 62n) });
  expect(big.fillValue).toBe(-(2n ** 62n));
  expect(Array.from((await big.get()).data)).toEqual([-(2n ** 62n), -(2n ** 62n)]);
  const s = await createArray('memory://writes', 's', { shape: [3], dtype: 'string', fillValue: 'n/a' });
  await s.set([slice(1, null)], ['x', 'ü']);
  expect((await s.get()).data).toEqual(['n/a', 'x', 'ü']);
});

test('resize, append, attributes, info, dimension names', async () => {
  const dir = tmp();
  const a = await createArray(dir, 'g/a', {
    shape: [4, 3],
    dtype: 'uint16',
    chunks: [2, 3],
    attributes: { unit: 'counts', nested: { k: [1, 2] } },
    dimensionNames: ['cell', 'gene'],
  });
  await a.set(
    null,
    Uint16Array.from({ length: 12 }, (_, i) => i),
  );
  expect(await a.append({ data: new Uint16Array([100, 101, 102]), shape: [1, 3] })).toEqual([5, 3]);
  expect(Array.from((await a.get([4])).data)).toEqual([100, 101, 102]);
  await a.resize([2, 3]);
  await a.resize([4, 3]);
  expect(Array.from((await a.get()).data)).toEqual([0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0]);
  await a.setAttributes({ unit: 'umi' });
  const b = await openArray(dir, 'g/a');
  expect(b.attrs).toEqual({ unit: 'umi' });
  expect((b.metadata as { dimension_names: string[] }).dimension_names).toEqual(['cell', 'gene']);
  const info = await b.info();
  expect(info).toMatchObject({ nbytes: 24, chunksInitialized: 1, chunksTotal: 2, shape: [4, 3], zarrFormat: 3 });
  expect(info.nbytesStored).toBeGreaterThan(0);
});

test('selection and value errors are typed', async () => {
  const a = await createArray('memory://errs', 'a', { shape: [4, 5], dtype: 'float32' });
  await expect(a.get([4])).rejects.toBeInstanceOf(OutOfBoundsError);
  await expect(a.get([0, 0, 0])).rejects.toBeInstanceOf(InvalidSelectionError);
  await expect(a.get([slice(0, 4, 0)])).rejects.toBeInstanceOf(InvalidSelectionError);
  await expect(a.get([slice(0, 4, -1)])).rejects.toBeInstanceOf(InvalidSelectionError);
  await expect(a.get([1.5])).rejects.toBeInstanceOf(InvalidSelectionError);
  await expect(a.getOrthogonal([[0, 9]])).rejects.toBeInstanceOf(OutOfBoundsError);
  await expect(a.getCoordinates([[0], [0, 1]])).rejects.toBeInstanceOf(InvalidSelectionError);
  // Wrong TypedArray type, wrong length, strings into numbers.
  await expect(a.set(null, new Float64Array(20) as never)).rejects.toBeInstanceOf(InvalidInputError);
  await expect(a.set(null, new Float32Array(19))).rejects.toMatchObject({ code: 'InvalidInput', key: 'a' });
  await expect(a.set(null, ['x'] as never)).rejects.toBeInstanceOf(InvalidInputError);
  expect(() => a.setSync([0], new Int8Array(5) as never)).toThrow(ZarrsError);
  await expect(createArray('memory://errs', 'u', { shape: [2], dtype: 'uint8', fillValue: 300 })).rejects.toMatchObject(
    {
      code: 'InvalidInput',
    },
  );
});

test('createArray refuses unknown and wrong-typed options as InvalidInput, and creates nothing', async () => {
  const dir = tmp();
  const base = { shape: [4], dtype: 'int8' } as const;
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown', { chunk: [2] }, /unknown createArray option 'chunk'/],
    ['shape', { shape: 4 }, /shape/],
    ['overwrite', { overwrite: 'yes' }, /overwrite/],
    ['chunks', { chunks: { n: 2 } }, /chunks/],
    ['dtype', { dtype: 8 }, /dtype/],
    ['dimensionNames', { dimensionNames: [3] }, /dimensionNames/],
    ['zarrFormat', { zarrFormat: 2.5 }, /zarrFormat must be 2 or 3, got 2.5/],
    ['order', { zarrFormat: 2, order: 'X' }, /order must be 'C' or 'F', got 'X'/],
    ['codec level', { compressors: { name: 'zstd', level: Number.NaN } }, /'level' is NaN/],
  ];
  for (const [name, o, message] of bad) {
    await expect(createArray(dir, name, { ...base, ...o } as never), name).rejects.toMatchObject({
      code: 'InvalidInput',
      message,
    });
  }
  expect(await (await openStore(dir)).list()).toEqual([]);
  // An option given as undefined is absent, and null compressors mean none.
  const a = await createArray(dir, 'ok', { ...base, chunk: undefined, compressors: null } as never);
  expect(a.metadata.codecs).toEqual([{ name: 'bytes', configuration: { endian: 'little' } }]);
});

test('thread count is configurable', () => {
  const before = getThreads();
  setThreads(1);
  expect(getThreads()).toBe(1);
  setThreads(before);
  expect(getThreads()).toBe(before);
  expect(() => setThreads(0)).toThrow(InvalidInputError);
});

test('AbortSignal cancels reads and writes', async () => {
  const a = await createArray('memory://abort', 'a', { shape: [2048, 2048], dtype: 'float32', chunks: [64, 64] });
  await expect(a.get(null, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'Aborted' });
  const ctl = new AbortController();
  const p = a.set(null, new Float32Array(2048 * 2048).fill(1), { signal: ctl.signal });
  ctl.abort();
  await expect(p).rejects.toMatchObject({ code: 'Aborted' });
  // The handle stays usable.
  expect((await a.get([0, slice(0, 2)])).shape).toEqual([2]);
});

test('sharding: whole-shard writes encode each shard once; partial reads reuse the shard index', async () => {
  const store = await openStore('memory://shard-io');
  const a = await createArray(store, 's', { shape: [64, 64], dtype: 'uint16', chunks: [8, 8], shards: [32, 32] });
  store.resetStats();
  await a.set(
    null,
    Uint16Array.from({ length: 64 * 64 }, (_, i) => i),
  );
  // Four shards, four PUTs, nothing read back (no read-modify-write).
  expect(store.stats()).toMatchObject({ requests: 4, bytesRead: 0 });

  store.resetStats();
  expect((await a.get([3, 5])).data[0]).toBe(3 * 64 + 5);
  // shard index + one inner chunk, plus (local stores only, once per shard per handle) the
  // shard's size and index read by the corrupt-index pre-check before zarrs reads it; object
  // stores check the bytes their prefetch fetched instead (objstore suites count that).
  const first = store.stats().requests;
  expect(first).toBeLessThanOrEqual(4);
  store.resetStats();
  expect(Array.from((await a.get([slice(0, 2), slice(0, 2)])).data)).toEqual([0, 1, 64, 65]);
  // Same shard again: its index is cached, only the one inner chunk is fetched.
  expect(store.stats().requests).toBe(1);
  const small = store.stats().bytesRead;
  expect(small).toBeLessThan(8 * 8 * 2 + 64); // one compressed 8x8 uint16 inner chunk, not the shard

  // A write invalidates the cached index; the next read sees the new data. Random values make
  // the rewritten inner chunk longer, so the inner chunks after it move within the shard.
  await a.get([slice(8, 10), slice(8, 10)]);
  const noise = Uint16Array.from({ length: 64 }, (_, i) => (i * 40503) % 65536);
  await a.set([slice(0, 8), slice(0, 8)], noise);
  expect((await a.get([0, 1])).data[0]).toBe(noise[1]);
  expect(Array.from((await a.get([slice(8, 10), slice(8, 10)])).data)).toEqual([520, 521, 584, 585]);
  expect(Array.from((await a.get([slice(6, 9), 7])).data)).toEqual([noise[55], noise[63], 519]);

  // A resize that drops shards forgets their indexes: grown back, they read as the fill value.
  await a.resize([32, 64]);
  await a.resize([64, 64]);
  expect(Array.from((await a.get([slice(40, 42), slice(3, 5)])).data)).toEqual([0, 0, 0, 0]);
});
