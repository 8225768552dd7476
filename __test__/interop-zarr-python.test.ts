// Interoperability with the reference implementation, zarr-python 3 (pinned in
// scripts/fixtures/requirements.txt): its committed fixtures read identically here, and
// everything we write reads identically there (checked live through .venv).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  type CreateArrayOptions,
  consolidateMetadata,
  createArray,
  createGroup,
  type DataType,
  openArray,
  openGroup,
  slice,
} from '../src-ts/index.js';
import { DTYPES, FIXTURES, makeData, plain, pyJson, tmp } from './helpers.js';

interface ManifestArray {
  path: string;
  node: string;
  zarr_format: 2 | 3;
  shape: number[];
  dtype: DataType;
  fill_value: unknown;
  chunks: number[];
  shards: number[] | null;
  attrs: Record<string, unknown>;
  dimension_names: (string | null)[] | null;
  codec_note: string;
  values: unknown[];
}
interface Manifest {
  arrays: ManifestArray[];
  groups: { path: string; node: string; zarr_format: 2 | 3; attrs: Record<string, unknown> }[];
}
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

function jsonFill(dtype: DataType, v: unknown): unknown {
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (typeof v === 'bigint') return Number(v);
  if (dtype === 'float16' && typeof v === 'number') return v;
  return v;
}

describe('fixtures written by zarr-python read identically', () => {
  test.each(manifest.arrays.map((a) => [`${a.path}/${a.node} (${a.codec_note})`, a] as const))('%s', async (_, m) => {
    const a = await openArray(join(FIXTURES, m.path), m.node);
    expect(a.zarrFormat).toBe(m.zarr_format);
    expect(a.dtype).toBe(m.dtype);
    expect(a.shape).toEqual(m.shape);
    expect(a.chunks).toEqual(m.shards ? a.chunks : m.chunks);
    expect(a.shards).toEqual(m.shards);
    expect(a.attrs).toEqual(m.attrs);
    expect(jsonFill(m.dtype, a.fillValue)).toEqual(m.fill_value);
    if (m.dimension_names)
      expect((a.metadata as { dimension_names: unknown }).dimension_names).toEqual(m.dimension_names);
    const { data, shape } = await a.get();
    expect(shape).toEqual(m.shape);
    expect(plain(m.dtype, data)).toEqual(m.values);
  });

  test.each(manifest.groups.map((g) => [`${g.path}/${g.node}`, g] as const))('group %s', async (_, g) => {
    const grp = await openGroup(join(FIXTURES, g.path), g.node);
    expect(grp.zarrFormat).toBe(g.zarr_format);
    expect(grp.attrs).toEqual(g.attrs);
  });

  test.each(['v2', 'v3'])('%s consolidated fixture is used without listing', async (v) => {
    const dir = join(FIXTURES, v, 'consolidated.zarr');
    const g = await openGroup(dir, '', { consolidated: 'require' });
    expect(g.consolidated).toBe(true);
    g.store.resetStats();
    expect((await g.members()).map((m) => `${m.name}:${m.kind}`)).toEqual(['g:group', 'root_arr:array']);
    const sub = await g.openGroup('g');
    const arr = await sub.openArray('arr');
    expect(arr.shape).toEqual([4, 5]);
    expect(g.store.stats().requests).toBe(0);
    expect(await g.tree()).toContain('arr (4, 5) float32');
  });
});

type Layout = Partial<CreateArrayOptions>;
const LAYOUTS: Record<string, Layout> = {
  v2_zstd: { zarrFormat: 2, chunks: [4, 5] },
  v2_blosc: { zarrFormat: 2, chunks: [4, 5], compressors: 'blosc:lz4:5' },
  v2_gzip_F: { zarrFormat: 2, chunks: [5, 4], compressors: 'gzip', order: 'F' },
  v2_zlib: { zarrFormat: 2, chunks: [5, 4], compressors: 'zlib' },
  v2_raw: { zarrFormat: 2, chunks: [13, 17], compressors: null },
  v3_zstd: { chunks: [4, 5] },
  v3_gzip: { chunks: [4, 5], compressors: 'gzip:6' },
  v3_blosc: { chunks: [4, 5], compressors: { name: 'blosc', cname: 'zstd', clevel: 3, shuffle: 'bitshuffle' } },
  v3_zlib: { chunks: [4, 5], compressors: 'zlib' },
  v3_sharded: { chunks: [2, 5], shards: [4, 10] },
  v3_sharded_crc: { chunks: [3, 3], shards: [6, 9], compressors: ['zstd:5', 'crc32c'] },
  v3_transpose: { chunks: [4, 5], filters: [{ name: 'transpose', order: [1, 0] }] },
};

describe('arrays we write read identically in zarr-python', () => {
  test('every dtype x layout, partial writes, fills, attributes, scalars', async () => {
    const dir = tmp();
    const shape = [13, 17];
    const n = shape[0] * shape[1];
    const expected: { path: string; dtype: DataType; values: unknown[]; shards: number[] | null; fmt: number }[] = [];
    for (const [label, layout] of Object.entries(LAYOUTS)) {
      for (const dtype of DTYPES) {
        if (dtype === 'string' && (label.includes('blosc') || label.includes('transpose'))) continue;
        const path = `${label}/${dtype}`;
        const a = await createArray(dir, path, { shape, dtype, ...layout, attributes: { label, ünï: [1, null] } });
        const data = makeData(dtype, n);
        await a.set(null, data as never);
        expected.push({ path, dtype, values: plain(dtype, data), shards: a.shards, fmt: a.zarrFormat });
      }
    }
    // Partially written arrays: missing chunks must read as the fill value there too.
    for (const fmt of [2, 3] as const) {
      const path = `partial_v${fmt}`;
      const a = await createArray(dir, path, {
        shape: [10, 10],
        dtype: 'float32',
        chunks: [3, 3],
        fillValue: -2.5,
        zarrFormat: fmt,
        ...(fmt === 3 ? { shards: [6, 6] } : {}),
      });
      await a.set([slice(0, 2), slice(0, 2)], new Float32Array([1, 2, 3, 4]));
      const values = Array.from({ length: 100 }, (_, i) =>
        i === 0 ? 1 : i === 1 ? 2 : i === 10 ? 3 : i === 11 ? 4 : -2.5,
      );
      expected.push({ path, dtype: 'float32', values, shards: a.shards, fmt });
      const s = await createArray(dir, `scalar_v${fmt}`, { shape: [], dtype: 'int64', zarrFormat: fmt });
      await s.set(null, -42n);
      expected.push({ path: `scalar_v${fmt}`, dtype: 'int64', values: [-42], shards: null, fmt });
    }
    const results = pyJson<Record<string, unknown>[]>(
      'interop/zarr_read.py',
      ['--batch'],
      JSON.stringify(expected.map((e) => ({ store: dir, path: e.path }))),
    );
    expected.forEach((e, i) => {
      const r = results[i];
      expect(r.error, e.path).toBeUndefined();
      expect({ path: e.path, dtype: r.dtype, fmt: r.zarr_format, shards: r.shards }).toEqual({
        path: e.path,
        dtype: e.dtype,
        fmt: e.fmt,
        shards: e.shards,
      });
      expect(r.values, e.path).toEqual(e.values);
      if (e.path.includes('/')) expect((r.attrs as Record<string, unknown>)['ünï'], e.path).toEqual([1, null]);
    });
  });

  test('hierarchies and consolidated metadata we write are understood by zarr-python', async () => {
    for (const fmt of [2, 3] as const) {
      const dir = tmp();
      const root = await createGroup(dir, '', { zarrFormat: fmt, attributes: { title: 'root' } });
      const g = await root.createGroup('g', { attributes: { k: 'v' } });
      await g.createArray('arr', { shape: [4, 5], dtype: 'float32', fillValue: 1 });
      await root.createArray('Case', { shape: [2], dtype: 'int8' });
      await root.createArray('case', { shape: [3], dtype: 'int8' });
      await consolidateMetadata(dir);
      // A write after consolidation updates the consolidated copy instead of leaving it stale.
      await g.createArray('late', { shape: [1], dtype: 'uint8' });
      const tree = pyJson<{
        has_consolidated: boolean;
        consolidated_matches: boolean;
        nodes: { path: string; kind: string }[];
      }>('interop/zarr_tree.py', [dir]);
      expect(tree.has_consolidated).toBe(true);
      expect(tree.consolidated_matches).toBe(true);
      expect(tree.nodes.map((n) => `${n.path}:${n.kind}`).sort()).toEqual(
        [':group', 'Case:array', 'case:array', 'g:group', 'g/arr:array', 'g/late:array'].sort(),
      );
    }
  });
});
