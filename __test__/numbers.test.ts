// Every number crossing into the native layer is checked at the door: an integer, finite and in
// range, else a typed error naming the argument. Nothing is cast (NaN -> 0, -1 -> 2^64-1,
// 1.5 -> 1), so a bad number can never shrink an array or delete its chunks.
import { describe, expect, test } from 'vitest';
import {
  type CreateArrayOptions,
  createArray,
  InvalidInputError,
  InvalidSelectionError,
  openGroup,
  openStore,
  setMaxAllocBytes,
  setThreads,
  slice,
} from '../src-ts/index.js';
import { fromNative } from '../src-ts/zarr/errors.js';
import { native } from '../src-ts/zarr/native.js';
import { tmp } from './helpers.js';

const BAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1.5, 2 ** 53 + 2];

async function filled(name: string) {
  const a = await createArray(tmp(), name, { shape: [6], dtype: 'uint8', chunks: [2] });
  await a.set(null, Uint8Array.from([1, 2, 3, 4, 5, 6]));
  return a;
}

describe.each(BAD)('%d', (bad) => {
  test('resize refuses it and the array keeps its shape and chunks', async () => {
    const a = await filled('r');
    await expect(a.resize([bad])).rejects.toMatchObject({ code: 'InvalidInput', message: /shape\[0\]/ });
    expect(a.shape).toEqual([6]);
    expect(Array.from((await a.get()).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await a.info()).chunksInitialized).toBe(3);
  });

  test('append refuses it as a value shape and as an axis', async () => {
    const a = await filled('a');
    await expect(a.append({ data: new Uint8Array(2), shape: [bad] })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: /value shape\[0\]/,
    });
    await expect(a.append({ data: new Uint8Array(2), shape: [2] }, bad)).rejects.toMatchObject({
      code: 'InvalidInput',
      message: /axis/,
    });
    expect(a.shape).toEqual([6]);
  });

  test('createArray refuses it in shape, chunks and shards', async () => {
    const dir = tmp();
    const cases: [string, Partial<CreateArrayOptions>][] = [
      ['shape', { shape: [4, bad] }],
      ['chunks', { chunks: [2, bad] }],
      ['shards', { chunks: [2, 2], shards: [4, bad] }],
    ];
    for (const [opt, o] of cases) {
      await expect(createArray(dir, opt, { shape: [4, 4], dtype: 'float32', ...o })).rejects.toMatchObject({
        code: 'InvalidInput',
        message: new RegExp(`'${opt}\\[1\\]'|'${opt}' is`),
      });
    }
    expect(await (await openStore(dir)).list()).toEqual([]);
  });

  test('selections refuse it as an index, a slice bound and a coordinate (-1 counts from the end)', async () => {
    const a = await filled('s');
    if (bad === -1) {
      // a valid selection index: the last element
      expect((await a.get([-1])).data).toEqual((await a.get([a.shape[0] - 1])).data);
      return;
    }
    await expect(a.get([bad])).rejects.toBeInstanceOf(InvalidSelectionError);
    await expect(a.get([slice(0, bad)])).rejects.toBeInstanceOf(InvalidSelectionError);
    await expect(a.getOrthogonal([[0, bad]])).rejects.toBeInstanceOf(InvalidSelectionError);
    await expect(a.getCoordinates([[bad]])).rejects.toBeInstanceOf(InvalidSelectionError);
  });

  test('getRange refuses it as offset and length', async () => {
    const store = await openStore(tmp());
    await store.set('k', new Uint8Array(8));
    await expect(store.getRange('k', bad)).rejects.toMatchObject({ code: 'InvalidInput', message: /offset/ });
    await expect(store.getRange('k', 0, bad)).rejects.toMatchObject({ code: 'InvalidInput', message: /length/ });
  });

  test('thread count, allocation cap, zarrFormat and sparse counts refuse it', async () => {
    expect(() => setThreads(bad)).toThrow(InvalidInputError);
    expect(() => setMaxAllocBytes(bad)).toThrow(InvalidInputError);
    const dir = tmp();
    await expect(openGroup(dir, '', { mode: 'w', zarrFormat: bad as 2 })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: /zarrFormat/,
    });
    const indptr = new Uint8Array(Int32Array.from([0, 0]).buffer);
    for (const [i, name] of ['nnz', 'major', 'minor'].entries()) {
      const counts: [number, number, number] = [0, 1, 1];
      counts[i] = bad;
      const e = await (async () =>
        native.validateCompressed(indptr, false, new Uint8Array(0), false, ...counts))().then(() => null, fromNative);
      expect(e).toBeInstanceOf(InvalidInputError);
      expect(e?.message).toContain(name);
    }
  });
});

test('the largest safe integers still pass', async () => {
  const a = await createArray(tmp(), 'big', { shape: [2 ** 53 - 1], dtype: 'uint8', chunks: [2 ** 20] });
  expect(a.shape).toEqual([2 ** 53 - 1]);
  await a.resize([2 ** 40]);
  expect(a.shape).toEqual([2 ** 40]);
  expect(Array.from((await a.get([slice(2 ** 40 - 2, null)])).data)).toEqual([0, 0]);
});
