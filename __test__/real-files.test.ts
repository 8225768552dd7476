// Real files beyond the corpus comparison (corpus.test.ts): zip stores and their errors,
// openArray's zarrFormat for paths holding both formats, the 0-d `order: "F"` array that
// aborts zarrs 0.23.14 unless normalised, and the numcodecs lz4/delta codecs zarrs lacks.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createArray, isZarrsError, openArray, openGroup, openStore } from '../src-ts/index.js';
import { hasPython, pyJson, ROOT, tmp } from './helpers.js';
import { startRangeServer } from './servers.js';

const CORPUS = join(ROOT, '__test__', 'fixtures', 'corpus');
const ZARRITA_ZIP = join(CORPUS, 'zarrita-v2.zipped_from_within.zarr.zip');
const ANNDATA_ZIP = join(CORPUS, 'anndata-0.11.4.zarr.zip');

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!isZarrsError(e)) throw new Error(`expected a ZarrsError, got ${String(e)}`);
  return e.code;
}

describe('zip stores', () => {
  test('a *.zip path opens read-only with the archive root as the store root', async () => {
    const store = await openStore(ZARRITA_ZIP);
    const keys = await store.list();
    expect(keys).toContain('1d.contiguous.lz4.i2/.zarray');
    expect(new Set(keys).size).toBe(keys.length);
    const root = await openGroup(store);
    expect((await root.members()).map((m) => m.name)).toContain('my group with spaces');
    const a = await openArray(store, '1d.contiguous.lz4.i2');
    expect(Array.from((await a.get()).data as Int16Array)).toEqual([1, 2, 3, 4]);
    expect(await codeOf(store.set('x', new Uint8Array([1])))).toBe('ReadOnly');
    expect(await codeOf(createArray(ZARRITA_ZIP, 'new', { shape: [2], dtype: 'int8' }))).toBe('ReadOnly');
    store.close();
  });

  test('a file:// URL to a zip works too', async () => {
    const a = await openArray(`file://${ZARRITA_ZIP}`, '1d.contiguous.delta.i2');
    expect(Array.from((await a.get()).data as Int16Array)).toEqual([1, 2, 3, 4]);
  });

  test('an anndata archive (zarr-python 2 ZipStore, rewritten keys inside) reads as AnnData', async () => {
    const { readZarr } = await import('../src-ts/anndata/index.js');
    const adata = await readZarr(ANNDATA_ZIP);
    expect(adata.shape).toEqual([10, 20]);
    // .zattrs was written twice into the archive: the later entry is the current one
    const store = await openStore(ANNDATA_ZIP);
    const keys = await store.list();
    expect(keys.filter((k) => k === '.zattrs')).toHaveLength(1);
    store.close();
  });

  test('a zip archive over HTTP reads its central directory and entries with range requests', async () => {
    const server = await startRangeServer(CORPUS);
    try {
      const url = `${server.url}/zarrita-v2.zipped_from_within.zarr.zip`;
      const store = await openStore(url);
      // like every object store, opening sends nothing; the archive is read on first use
      expect(server.counts.total).toBe(0);
      const a = await openArray(store, '1d.contiguous.lz4.i2');
      expect(Array.from((await a.get()).data as Int16Array)).toEqual([1, 2, 3, 4]);
      expect(server.counts.ranged).toBeGreaterThan(0);
      expect(server.counts.GET).toBeLessThan(20);
      store.close();
      const missing = await openStore(`${server.url}/missing.zarr.zip`);
      const e = await openArray(missing, 'x').then(
        () => null,
        (x: unknown) => x,
      );
      expect(isZarrsError(e) && [e.code, e.key]).toEqual(['NotFound', `${server.url}/missing.zarr.zip`]);
    } finally {
      await server.stop();
    }
  });

  test('missing, garbled and directory "zips" are typed errors naming the location', async () => {
    const dir = tmp();
    const garbled = join(dir, 'garbled.zarr.zip');
    writeFileSync(garbled, Buffer.from('this is not a zip archive, just some bytes'.repeat(10)));
    const empty = join(dir, 'empty.zip');
    writeFileSync(empty, Buffer.alloc(0));
    const folder = join(dir, 'folder.zip');
    mkdirSync(folder);
    for (const [loc, code] of [
      [join(dir, 'missing.zarr.zip'), 'NotFound'],
      [garbled, 'InvalidInput'],
      [empty, 'InvalidInput'],
      [folder, 'InvalidInput'],
    ] as const) {
      const e = await openStore(loc).then(
        () => null,
        (x: unknown) => x,
      );
      expect(isZarrsError(e), `${loc}: ${String(e)}`).toBe(true);
      if (isZarrsError(e)) {
        expect(e.code, loc).toBe(code);
        expect(e.message).toContain(loc);
      }
    }
  });
});

describe('openArray zarrFormat', () => {
  // zarrs' test data holds a .zarray and a zarr.json for this array
  const zip = join(CORPUS, 'corpus.zip');
  const path = 'zarrs-testdata/v3/array_blosc.zarr';

  test('picks the metadata document of the requested format', async () => {
    const store = await openStore(zip);
    expect((await openArray(store, path)).zarrFormat).toBe(3);
    expect((await openArray(store, path, { zarrFormat: 3 })).zarrFormat).toBe(3);
    const v2 = await openArray(store, path, { zarrFormat: 2 });
    expect(v2.zarrFormat).toBe(2);
    const v3 = await openArray(store, path, { zarrFormat: 3 });
    expect((await v2.get()).data).toEqual((await v3.get()).data);
    // a v2-only array asked for as v3, and a format that does not exist
    expect(await codeOf(openArray(store, 'zarrs-testdata/v2/array_none_C.zarr', { zarrFormat: 3 }))).toBe('NotFound');
    expect(await codeOf(openArray(store, path, { zarrFormat: 4 as 3 }))).toBe('InvalidInput');
    store.close();
  });
});

describe.runIf(hasPython())('a 0-d zarr v2 array with order "F" (zarr-python writes it)', () => {
  test('opens and reads in a child process without aborting it', () => {
    const dir = tmp();
    const store = join(dir, 'scalar.zarr');
    const spec = {
      store,
      path: 's',
      zarr_format: 2,
      shape: [],
      dtype: 'float64',
      chunks: [],
      order: 'F',
      values: [2.5],
    };
    const written = pyJson<{ metadata: { order?: string } }>('interop/zarr_write.py', ['-'], JSON.stringify(spec));
    expect(written.metadata.order).toBe('F');
    // zarrs 0.23.14 aborts the whole process on this metadata (SIGABRT, not a JS error),
    // so read it in a child: an abort shows as a signal instead of killing vitest.
    const script = join(dir, 'read.mjs');
    writeFileSync(
      script,
      `import { openArray } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const a = await openArray(${JSON.stringify(store)}, 's');
const { data, shape } = await a.get();
process.stdout.write(JSON.stringify({ shape, data: Array.from(data), zarrFormat: a.zarrFormat }));
`,
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ shape: [], data: [2.5], zarrFormat: 2 });
  });
});

describe.runIf(hasPython())('lz4, bz2 and delta writes read back by zarr-python', () => {
  test.each(['int16', 'uint64', 'float64'] as const)('zarr v3 delta filter on %s', async (dtype) => {
    const dir = tmp();
    const n = 50;
    const a = await createArray(dir, 'd', { shape: [n], dtype, chunks: [16], filters: ['delta'], compressors: 'lz4' });
    // int16 and uint64 differences wrap around; uint64 stays below 2^53 so the python helper's
    // JSON numbers are exact
    const values =
      dtype === 'int16'
        ? Int16Array.from({ length: n }, (_, i) => (i % 2 ? 30_000 : -30_000) + i)
        : dtype === 'uint64'
          ? BigUint64Array.from({ length: n }, (_, i) => (i % 3 ? 2n ** 52n : 5n) + BigInt(i))
          : Float64Array.from({ length: n }, (_, i) => i * 0.25 - 3);
    await a.set(null, values as never);
    const theirs = pyJson<{ values: unknown[]; metadata: Record<string, unknown> }>('interop/zarr_read.py', [dir, 'd']);
    expect(JSON.stringify(theirs.metadata)).toContain('numcodecs.delta');
    expect(theirs.values.map(String)).toEqual(Array.from(values as ArrayLike<unknown>, String));
    expect(Array.from((await a.get()).data as ArrayLike<unknown>, String)).toEqual(
      Array.from(values as ArrayLike<unknown>, String),
    );
  });

  test.each([
    [2, 'lz4'],
    [3, 'lz4'],
    [2, 'bz2:4'],
    [3, { name: 'bz2', level: 2 }],
  ] as const)('zarr v%i %j', async (zarrFormat, compressors) => {
    const dir = tmp();
    const values = Int32Array.from({ length: 300 }, (_, i) => ((i * 37) % 101) - 50);
    const a = await createArray(dir, 'a', { shape: [300], dtype: 'int32', chunks: [64], zarrFormat, compressors });
    await a.set(null, values);
    const theirs = pyJson<{ values: number[]; metadata: Record<string, unknown> }>('interop/zarr_read.py', [dir, 'a']);
    expect(theirs.values).toEqual(Array.from(values));
    const codecName = typeof compressors === 'string' ? compressors.split(':')[0] : compressors.name;
    expect(JSON.stringify(theirs.metadata)).toContain(codecName);
  });
});
