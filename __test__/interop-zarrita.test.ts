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

describe('AnnData stores we write', () => {
  // zarrita has no float16 and no v2 vlen-utf8; everything else in the store must read the same.
  test.each([2, 3] as const)('zarr format %i: every array reads the same in zarrita', async (zarrFormat) => {
    const { writeZarr } = await import('../src-ts/anndata/index.js');
    const { openStore, openArray } = await import('../src-ts/index.js');
    const { sampleAnnData } = await import('./anndata-sample.js');
    const dir = tmp();
    // large enough that obsm/X arrays get sharded under a small policy
    await writeZarr(dir, sampleAnnData(40, 30), { zarrFormat, shards: { chunkBytes: 64, shardBytes: 512 } });
    const store = await openStore(dir);
    // An array is a node whose own metadata document says so (v2: a .zarray; v3: node_type),
    // so a failure to open one is a failure, not a group.
    const arrays: string[] = [];
    for (const k of await store.list()) {
      const node = k.slice(0, k.lastIndexOf('/'));
      if (zarrFormat === 2 ? k.endsWith('/.zarray') : k.endsWith('/zarr.json')) {
        const doc = JSON.parse(new TextDecoder().decode((await store.get(k)) ?? undefined)) as { node_type?: string };
        if (zarrFormat === 2 || doc.node_type === 'array') arrays.push(node);
      }
    }
    let checked = 0;
    let sharded = 0;
    for (const path of arrays) {
      const ours = await openArray(dir, path);
      if (ours.dtype === 'float16' || (zarrFormat === 2 && ours.dtype === 'string')) continue;
      const theirs = await zarrita.open(zarrita.root(new FileSystemStore(dir)).resolve(path), { kind: 'array' });
      const got = await zarrita.get(theirs);
      const mine = await ours.get();
      const n = mine.data.length;
      // zarrita returns 0-d arrays as a bare scalar
      const values =
        ours.shape.length === 0
          ? [typeof got === 'boolean' ? Number(got) : got]
          : ours.dtype === 'bool'
            ? Array.from({ length: n }, (_, i) => (got.data as zarrita.BoolArray).get(i))
            : Array.from(got.data as ArrayLike<unknown>);
      expect(plain(ours.dtype, values), path).toEqual(plain(ours.dtype, mine.data as ArrayLike<unknown>));
      checked++;
      if (ours.shards) sharded++;
    }
    expect(checked).toBeGreaterThan(zarrFormat === 3 ? 60 : 30);
    if (zarrFormat === 3) expect(sharded).toBeGreaterThan(5);
  });
});
