// AnnData read/write on our own: every encoding round-trips in both zarr formats, the layout
// follows the sharding policy, consolidated stores are handled, and the API contracts hold
// (no mutation, Arrow, namespaces, dispatch).
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import {
  AnnData,
  CsrMatrix,
  col,
  convertStringsToCategoricals,
  DataFrame,
  readDispatched,
  readElem,
  readZarr,
  registerAnnDataNamespace,
  writeDispatched,
  writeElem,
  writeZarr,
} from '../src-ts/anndata/index.js';
import { ConsolidatedStaleError, openArray, openGroup, openStore } from '../src-ts/index.js';
import { dumpAnnData, dumpElem } from './anndata-dump.js';
import { sampleAnnData } from './anndata-sample.js';
import { tmp } from './helpers.js';

describe.each([2, 3] as const)('zarr format %i', (zarrFormat) => {
  test('every encoding round-trips', async () => {
    const a = sampleAnnData();
    const path = join(tmp(), 'a.zarr');
    await writeZarr(path, a, { zarrFormat, convertStringsToCategoricals: false });
    const b = await readZarr(path);
    expect(dumpAnnData(b)).toEqual(dumpAnnData(a));
    // the default converts repeated / missing-value strings to categoricals, as python does
    await writeZarr(path, a, { zarrFormat });
    expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(convertStringsToCategoricals(a)));
    expect(dumpAnnData(await readZarr(path)).obs).not.toEqual(dumpAnnData(a).obs);
    expect(b.obsNames).toEqual(a.obsNames);
    expect(b.obs.columns).toEqual(a.obs.columns);
    const root = await openGroup(path);
    expect(root.zarrFormat).toBe(zarrFormat);
    expect(root.consolidated).toBe(true);
  });

  test('empty objects: zero rows, zero columns, no X', async () => {
    for (const [n, m] of [
      [0, 3],
      [3, 0],
      [0, 0],
    ]) {
      const a = new AnnData({
        X: { dtype: 'float32', data: new Float32Array(0), shape: [n, m] },
        obs: new DataFrame({
          index: Array.from({ length: n }, (_, i) => `c${i}`),
          columns: { x: col.numeric(new Float64Array(n)) },
        }),
        var: new DataFrame({ index: Array.from({ length: m }, (_, i) => `g${i}`) }),
      });
      const path = join(tmp(), 'e.zarr');
      await writeZarr(path, a, { zarrFormat });
      expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(a));
    }
    const noX = new AnnData({ obs: new DataFrame({ index: ['a', 'b'] }), var: new DataFrame({ index: ['g'] }) });
    const path = join(tmp(), 'nox.zarr');
    await writeZarr(path, noX, { zarrFormat });
    const back = await readZarr(path);
    expect(back.X).toBeNull();
    expect(back.shape).toEqual([2, 1]);
  });
});

describe('layout', () => {
  test('v3 default: sharded zstd arrays, 1-chunk arrays unsharded, scalars plain', async () => {
    const n = 300_000;
    const a = new AnnData({
      X: new CsrMatrix({
        data: new Float32Array(n).fill(1),
        indices: new Int32Array(n),
        indptr: Int32Array.from({ length: n + 1 }, (_, i) => i),
        shape: [n, 2],
      }),
      obs: new DataFrame({ nRows: n, columns: { small: col.numeric(new Uint8Array(n)) } }),
      var: new DataFrame({ index: ['a', 'b'] }),
      uns: { k: 1 },
    });
    const path = join(tmp(), 'l.zarr');
    await writeZarr(path, a);
    const data = await openArray(path, 'X/data');
    expect(data.chunks).toEqual([65536]); // 256 KiB of float32
    expect(data.shards).toEqual([Math.ceil(n / 65536) * 65536]); // all of it: < 64 MiB
    expect(JSON.stringify(data.codecs)).toContain('zstd');
    const small = await openArray(path, 'obs/small');
    expect(small.shards).toBeNull(); // 300 kB: one chunk, no shard index needed
    const scalar = await openArray(path, 'uns/k');
    expect(scalar.shape).toEqual([]);
    expect(scalar.shards).toBeNull();
  });

  test('shards: false and a custom policy', async () => {
    const a = sampleAnnData(40, 30);
    const p1 = join(tmp(), 'u.zarr');
    await writeZarr(p1, a, { shards: false });
    expect((await openArray(p1, 'layers/dense')).shards).toBeNull();
    const p2 = join(tmp(), 's.zarr');
    await writeZarr(p2, a, { shards: { chunkBytes: 256, shardBytes: 1024 }, convertStringsToCategoricals: false });
    const d = await openArray(p2, 'layers/dense');
    expect(d.chunks).toEqual([2, 30]);
    expect(d.shards).toEqual([8, 30]);
    expect(dumpAnnData(await readZarr(p2))).toEqual(dumpAnnData(a));
  });

  test('dense X: whole rows per inner chunk, full-width shards', async () => {
    const n = 1000;
    const m = 20_000;
    const a = new AnnData({ X: { data: new Float32Array(n * m), shape: [n, m] } });
    const path = join(tmp(), 'd.zarr');
    await writeZarr(path, a);
    const x = await openArray(path, 'X');
    expect(x.chunks).toEqual([13, m]);
    expect(x.shards).toEqual([13 * 64, m]);
  });
});

describe('consolidated stores and writeElem', () => {
  test('opening a written store costs one request; keys differing by case survive', async () => {
    const path = join(tmp(), 'c.zarr');
    await writeZarr(path, sampleAnnData());
    const store = await openStore(path);
    const g = await openGroup(store, '');
    expect(store.stats().requests).toBe(1);
    expect((await (await g.openGroup('uns')).members()).map((m) => m.name)).toEqual(
      expect.arrayContaining(['Case', 'case']),
    );
    expect(store.stats().requests).toBe(1);
    const back = await readZarr(path);
    expect(back.uns.Case).toBe('upper');
    expect(back.uns.case).toBe('lower');
  });

  test('writeElem into a consolidated store refuses, or re-consolidates when asked', async () => {
    const path = join(tmp(), 'w.zarr');
    await writeZarr(path, sampleAnnData());
    const uns = await openGroup(path, 'uns', { mode: 'r+' });
    const before = await (await openStore(path)).get('zarr.json');
    await expect(writeElem(uns, 'added', 'x')).rejects.toBeInstanceOf(ConsolidatedStaleError);
    expect(await (await openStore(path)).get('zarr.json')).toEqual(before);
    expect(
      (await openGroup(path, 'uns', { consolidated: 'ignore' }).then((g) => g.members())).map((m) => m.name),
    ).not.toContain('added');
    await writeElem(uns, 'added', new DataFrame({ index: ['q'] }), { consolidate: true });
    const back = await readZarr(path);
    expect(back.uns.added).toBeInstanceOf(DataFrame);
    const root = await openGroup(path, '', { consolidated: 'require' });
    expect(root.consolidated).toBe(true);
  });

  test('writeElem into an unconsolidated store needs nothing extra', async () => {
    const path = join(tmp(), 'n.zarr');
    await writeZarr(path, sampleAnnData(), { consolidate: false });
    const uns = await openGroup(path, 'uns', { mode: 'r+' });
    await writeElem(uns, 'extra', { dtype: 'int16', data: Int16Array.from([1, 2]), shape: [2] });
    expect(dumpElem((await readZarr(path)).uns.extra)).toEqual({
      type: 'array',
      dtype: 'int16',
      shape: [2],
      data: [1, 2],
    });
  });
});

describe('API contracts', () => {
  test('convertStringsToCategoricals works on a copy', async () => {
    const a = new AnnData({
      obs: new DataFrame({
        index: ['a', 'b', 'c'],
        columns: { s: col.string(['y', 'x', 'y']), u: col.string(['1', '2', '3']) },
      }),
    });
    const snapshot = dumpAnnData(a);
    const path = join(tmp(), 'cat.zarr');
    await writeZarr(path, a);
    expect(dumpAnnData(a)).toEqual(snapshot);
    const b = await readZarr(path);
    expect(b.obs.get('s')).toMatchObject({ kind: 'categorical', categories: { kind: 'string', data: ['x', 'y'] } });
    expect(b.obs.get('u').kind).toBe('string'); // all unique: stays strings, as in python
    expect(dumpAnnData(convertStringsToCategoricals(a)).obs).toEqual(dumpAnnData(b).obs);
  });

  test('DataFrame <-> Arrow keeps every column kind', () => {
    const df = sampleAnnData().obs;
    const t = df.toArrow();
    expect(t.numRows).toBe(df.nRows);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['cell_id', ...df.columns]);
    expect(t.getChild('cat')?.type).toBeInstanceOf(arrow.Dictionary);
    expect(t.getChild('cat')?.get(3)).toBeNull();
    expect(t.getChild('nint')?.get(0)).toBeNull();
    expect(t.getChild('nint')?.get(1)).toBe(1);
    const back = DataFrame.fromArrow(t);
    expect(dumpElem(back)).toEqual(dumpElem(df));
  });

  test('fromArrow on a foreign table infers encodings', () => {
    const t = new arrow.Table({
      id: arrow.vectorFromArray(['a', 'b', 'c'], new arrow.Utf8()),
      x: arrow.vectorFromArray(Float32Array.from([1, 2, 3])),
      k: arrow.vectorFromArray(['u', null, 'u'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8())),
      n: arrow.vectorFromArray([1, null, 3], new arrow.Int32()),
    });
    const df = DataFrame.fromArrow(t, { index: 'id' });
    expect(df.indexValues).toEqual(['a', 'b', 'c']);
    expect(df.indexName).toBe('id');
    expect(df.columns).toEqual(['x', 'k', 'n']);
    expect(df.get('k')).toMatchObject({ kind: 'categorical', codes: Int8Array.from([0, -1, 0]) });
    expect(df.get('n')).toMatchObject({ kind: 'nullable-integer', mask: Uint8Array.from([0, 1, 0]) });
  });

  test('registerAnnDataNamespace', () => {
    class Stats {
      constructor(readonly adata: AnnData) {}
      cells() {
        return this.adata.nObs;
      }
    }
    registerAnnDataNamespace('stats', Stats);
    const a = new AnnData({ obs: new DataFrame({ index: ['a', 'b'] }) }) as AnnData & { stats: Stats };
    expect(a.stats.cells()).toBe(2);
    expect(() => registerAnnDataNamespace('obs', Stats)).toThrow(/not a free identifier/);
  });

  test('readDispatched / writeDispatched see every element with its encoding', async () => {
    const a = sampleAnnData();
    const path = join(tmp(), 'disp.zarr');
    const seen: string[] = [];
    const root = await openGroup(path, '', { mode: 'w' });
    await writeDispatched(root, 'adata', a, async (write, parent, name, elem, { iospec }) => {
      seen.push(`${parent.path}/${name}:${iospec.encodingType}`);
      // skip uns entirely, shard nothing under obsm
      if (name === 'uns') return;
      await write(parent, name, elem, parent.path.endsWith('obsm') ? { shards: false } : undefined);
    });
    expect(seen).toContain('adata/obs:dataframe');
    expect(seen).toContain('adata/X:csr_matrix');
    expect(seen).toContain('adata/obs/cat:categorical');
    const read: string[] = [];
    const g = await openGroup(path, 'adata');
    const back = (await readDispatched(g, async (readFn, name, node, { iospec }) => {
      read.push(`${name}:${iospec.encodingType}`);
      return readFn(node);
    })) as AnnData;
    expect(read).toContain('X:csr_matrix');
    expect(read).not.toContain('uns:dict');
    expect(back.uns).toEqual({});
    expect((await openArray(path, 'adata/obsm/X_pca')).shards).toBeNull();
    expect(dumpElem(await readElem(await openGroup(path, 'adata/obs')))).toEqual(dumpElem(a.obs));
  });
});
