// What we write is standard beyond zarr-python: the zarr v2 documents are spelled byte for byte
// as zarr-python 3.4.2 spells them, and tensorstore (a strict, independent C++ reader) opens
// and reads our v2 and v3 arrays, sharded or not, with the values we wrote. Both references
// run live from .venv-anndata-0.13.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  type CodecSpec,
  type CreateArrayOptions,
  consolidateMetadata,
  createArray,
  createGroup,
  type DataType,
} from '../src-ts/index.js';
import { DTYPES, makeData, PYTHON_013, plain, pyJson, tmp } from './helpers.js';

interface V2Case {
  path: string;
  shape: number[];
  chunks: number[];
  dtype: DataType;
  /** zarr-python's spelling: "NaN", "Infinity", "-Infinity" for floats. */
  fill_value: number | boolean | string | null;
  /** numcodecs config, passed to both writers as is. */
  compressor: Record<string, unknown> | null;
  order: 'C' | 'F';
  attributes: Record<string, unknown>;
}

function v2(
  path: string,
  dtype: DataType,
  shape: number[],
  chunks: number[],
  fill_value: V2Case['fill_value'],
  compressor: V2Case['compressor'],
  more: Partial<V2Case> = {},
): V2Case {
  return { path, dtype, shape, chunks, fill_value, compressor, order: 'C', attributes: {}, ...more };
}

const V2_CASES: V2Case[] = [
  v2('f4', 'float32', [10, 4], [5, 2], 'NaN', { id: 'zstd', level: 3 }),
  v2(
    'i8',
    'int64',
    [10],
    [5],
    0,
    { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 },
    {
      attributes: { b: 1, a: [1, 2.5], s: 'ü' },
    },
  ),
  v2('u2', 'uint16', [10], [5], 7, { id: 'gzip', level: 5 }),
  v2('b', 'bool', [10], [5], false, null),
  v2('s', 'string', [10], [5], '', { id: 'zstd', level: 3 }),
  v2('f8', 'float64', [3], [3], '-Infinity', { id: 'zlib', level: 1 }, { order: 'F' }),
  v2('f8zero', 'float64', [3, 3], [2, 2], 0, { id: 'zstd', level: 1 }),
  v2('u1sum', 'uint8', [4], [4], 255, { id: 'zstd', level: 5, checksum: true }),
  v2('i1', 'int8', [2, 3], [1, 3], -3, null),
  v2('f2', 'float16', [4], [4], 0.5, { id: 'blosc', cname: 'zstd', clevel: 3, shuffle: 2, blocksize: 0 }),
];

const GROUP_ATTRS = { k: 'v', unicode: 'é' };

function ourFill(v: V2Case['fill_value']): unknown {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return v;
}

/** The text of member `key` of a one-line JSON object (its balanced `{...}` value). */
function memberText(json: string, key: string): string {
  const at = json.indexOf(`"${key}": {`);
  if (at < 0) throw new Error(`no member ${key} in ${json}`);
  const start = at + key.length + 4;
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    if (json[i] === '{') depth++;
    if (json[i] === '}' && --depth === 0) return json.slice(start, i + 1);
  }
  throw new Error(`unbalanced member ${key}`);
}

describe('zarr v2 documents are spelled as zarr-python 3.4.2 spells them', () => {
  const ours = tmp('zn-v2-ours-');
  const theirs = tmp('zn-v2-py-');
  beforeAll(async () => {
    pyJson('interop/zarr_v2_reference.py', [theirs], JSON.stringify(V2_CASES), PYTHON_013);
    await createGroup(ours, '', { zarrFormat: 2 });
    await createGroup(ours, 'g', { zarrFormat: 2, attributes: GROUP_ATTRS });
    for (const c of V2_CASES) {
      await createArray(ours, `g/${c.path}`, {
        shape: c.shape,
        chunks: c.chunks,
        dtype: c.dtype,
        fillValue: ourFill(c.fill_value),
        compressors: c.compressor as CodecSpec | null,
        order: c.order,
        attributes: c.attributes,
        zarrFormat: 2,
      });
    }
    await consolidateMetadata(ours);
  });
  const read = (root: string, key: string) => readFileSync(join(root, key), 'utf8');

  test.each(['.zgroup', '.zattrs', 'g/.zgroup', 'g/.zattrs'])('%s', (key) => {
    expect(read(ours, key)).toBe(read(theirs, key));
  });

  test.each(V2_CASES.map((c) => [c.path, c] as const))('array %s: .zarray and .zattrs', (_, c) => {
    expect(read(ours, `g/${c.path}/.zarray`)).toBe(read(theirs, `g/${c.path}/.zarray`));
    expect(read(ours, `g/${c.path}/.zattrs`)).toBe(read(theirs, `g/${c.path}/.zattrs`));
  });

  test('.zmetadata: one line, every array entry spelled identically', () => {
    const [o, t] = [read(ours, '.zmetadata'), read(theirs, '.zmetadata')];
    expect(o).not.toContain('\n');
    expect(o.endsWith(', "zarr_consolidated_format": 1}')).toBe(true);
    for (const c of V2_CASES) {
      for (const doc of ['.zarray', '.zattrs']) {
        const key = `g/${c.path}/${doc}`;
        expect(memberText(o, key), key).toBe(memberText(t, key));
      }
    }
    expect(memberText(o, 'g/.zattrs')).toBe(memberText(t, 'g/.zattrs'));
  });
});

interface TsResult {
  dtype?: string;
  shape?: number[];
  values?: unknown[];
  error?: string;
}

const LAYOUTS: Record<string, Partial<CreateArrayOptions>> = {
  'v2 zstd': { zarrFormat: 2, chunks: [4, 5] },
  'v2 blosc': { zarrFormat: 2, chunks: [4, 5], compressors: 'blosc:lz4:5' },
  'v2 gzip, order F': { zarrFormat: 2, chunks: [4, 5], compressors: 'gzip', order: 'F' },
  'v2 zlib': { zarrFormat: 2, chunks: [13, 17], compressors: 'zlib' },
  v3: { chunks: [4, 5] },
  'v3 sharded': { chunks: [2, 5], shards: [4, 10] },
  'v3 sharded crc32c': { chunks: [3, 3], shards: [6, 9], compressors: ['zstd', 'crc32c'] },
  'v3 blosc, transpose': { chunks: [4, 5], compressors: 'blosc', filters: [{ name: 'transpose', order: [1, 0] }] },
};

// tensorstore has no variable-length strings in either zarr driver.
const TS_DTYPES = DTYPES.filter((d) => d !== 'string');

describe('tensorstore reads what we write', () => {
  const dir = tmp('zn-tensorstore-');
  const cases = Object.entries(LAYOUTS).flatMap(([label, layout]) =>
    TS_DTYPES.map((dtype) => ({ label, layout, dtype, path: `${label.replace(/[^a-z0-9]+/g, '_')}/${dtype}` })),
  );
  let results: TsResult[] = [];
  beforeAll(async () => {
    for (const c of cases) {
      const a = await createArray(dir, c.path, { shape: [13, 17], dtype: c.dtype, fillValue: 0, ...c.layout });
      await a.set(null, makeData(c.dtype, 13 * 17) as never);
    }
    const requests = cases.map((c) => ({ store: dir, path: c.path, zarr_format: c.layout.zarrFormat ?? 3 }));
    results = pyJson<TsResult[]>('interop/tensorstore_read.py', [], JSON.stringify(requests), PYTHON_013);
  });

  test.each(cases.map((c, i) => [`${c.label} ${c.dtype}`, c, i] as const))('%s', (_, c, i) => {
    const r = results[i];
    expect(r.error).toBeUndefined();
    expect(r.shape).toEqual([13, 17]);
    expect(r.dtype).toBe(c.dtype);
    const want = plain(c.dtype, makeData(c.dtype, 13 * 17) as ArrayLike<unknown>);
    // tensorstore returns float16 as the number it stands for, bool as true/false
    expect(r.values).toEqual(want);
  });
});
