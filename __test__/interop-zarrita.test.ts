// Arrays we write are standard: zarrita.js (the JS reader people use today) reads them too.
import { FileSystemStore } from '@zarrita/storage';
import { describe, expect, test } from 'vitest';
import * as zarrita from 'zarrita';
import { type CreateArrayOptions, createArray } from '../src-ts/index.js';
import { DTYPES, makeData, plain, tmp } from './helpers.js';

const LAYOUTS: Record<string, Partial<CreateArrayOptions>> = {
  v2: { zarrFormat: 2, chunks: [4, 5] },
  'v2 blosc': { zarrFormat: 2, chunks: [4, 5], compressors: 'blosc:lz4:5' },
  v3: { chunks: [4, 5] },
  'v3 gzip': { chunks: [4, 5], compressors: 'gzip' },
  'v3 sharded': { chunks: [2, 5], shards: [4, 10] },
  'v3 sharded crc32c': { chunks: [3, 3], shards: [6, 9], compressors: ['zstd', 'crc32c'] },
};

// zarrita has no float16; v2 strings (vlen-utf8 filter) and blosc strings are out of its scope.
const SUPPORTED = DTYPES.filter((d) => d !== 'float16');

describe.each(Object.entries(LAYOUTS))('%s', (label, layout) => {
  test.each(SUPPORTED.filter((d) => !(d === 'string' && label.startsWith('v2'))))('%s', async (dtype) => {
    const dir = tmp();
    const shape = [13, 17];
    const data = makeData(dtype, 13 * 17);
    const a = await createArray(dir, 'a', { shape, dtype, ...layout });
    await a.set(null, data as never);
    const arr = await zarrita.open(zarrita.root(new FileSystemStore(dir)).resolve('a'), { kind: 'array' });
    const got = await zarrita.get(arr);
    expect(got.shape).toEqual(shape);
    const values =
      dtype === 'bool'
        ? Array.from({ length: 13 * 17 }, (_, i) => (got.data as zarrita.BoolArray).get(i))
        : Array.from(got.data as ArrayLike<unknown>);
    expect(plain(dtype, values)).toEqual(plain(dtype, data));
  });
});
