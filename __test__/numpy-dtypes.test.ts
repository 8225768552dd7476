// numpy dtypes read through raw bytes: records (rec-arrays), fixed-length strings (U, S) and
// datetime64/timedelta64. Stores written by the reference (zarr-python 3.4.2, anndata 0.13.4,
// and copies of zarrs' and zarrita's test data) must read as zarr-python reads them
// (fixtures/numpy-dtypes/expected.json, from scripts/fixtures/numpy_dtypes.py); what we write
// must read back identically in zarr-python and python anndata (live, through the 0.13 venv).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { RecArray, readElem, readZarr, writeZarr } from '../src-ts/anndata/index.js';
import {
  createArray,
  InvalidInputError,
  InvalidMetadataError,
  openArray,
  openStore,
  slice,
  UnsupportedError,
  type ZarrsError,
} from '../src-ts/index.js';
import { expectError, ROOT, tmp } from './helpers.js';

const DIR = join(ROOT, '__test__', 'fixtures', 'numpy-dtypes');
const PY013 = join(ROOT, '.venv-anndata-0.13', 'bin', 'python');

type Descr = string | [string, string][];
interface Expected {
  dtype: Descr;
  shape: number[];
  values?: unknown[];
  fields?: Record<string, unknown[]>;
}
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')).arrays as Record<string, Expected>;

/** Our decoded values in expected.json's form: int64 as decimal strings, S as UTF-8 bytes. */
function asJson(data: ArrayLike<unknown>, numpyDtype: string): unknown[] {
  const kind = numpyDtype.replace(/^[<>|=]/, '')[0];
  return Array.from(data as ArrayLike<unknown>, (v) => {
    if (kind === 'S') return [...new TextEncoder().encode(v as string)];
    if (kind === 'b') return v === 1;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return kind === 'f' ? v : String(v);
    }
    return v;
  });
}

/** Python-read object fields (anndata reads U fields as objects) compare by value. */
function sameDescr(ours: [string, string][], theirs: Descr) {
  expect(ours.map(([n, d]) => [n, d.replace(/^<U\d+$/, '|O')])).toEqual(
    (theirs as [string, string][]).map(([n, d]) => [n, d.replace(/^<U\d+$/, '|O')]),
  );
}

const plain = Object.entries(EXPECTED).filter(([k, e]) => !k.includes('/uns/') && e.values && !k.includes('v3_bytes'));
const records = Object.entries(EXPECTED).filter(([k, e]) => !k.includes('/uns/') && e.fields);

describe('stores written by the reference read as zarr-python reads them', () => {
  test.each(plain)('%s', async (key, exp) => {
    const a = await openArray(join(DIR, key));
    const el = a.numpyDtype?.element;
    // numpyDtype spells the stored byte order; zarr-python shows v3 arrays in native order
    const stored = a.zarrFormat === 3 ? el?.numpyDtype.replace(/^>/, '<') : el?.numpyDtype;
    expect(stored).toBe(exp.dtype);
    expect(a.dtype).toBe(el?.dtype);
    expect(a.shape).toEqual(exp.shape);
    const c = await a.get();
    expect(asJson(c.data, el?.numpyDtype ?? '')).toEqual(exp.values);
    // orthogonal and point selections decode the same elements
    const first = exp.shape.map(() => [0]);
    const last = exp.shape.map((s) => [s - 1]);
    const o = await a.getOrthogonal(exp.shape.map((s) => [s - 1, 0]));
    const p = await a.getCoordinates(last);
    expect(asJson(p.data, el?.numpyDtype ?? '')).toEqual([exp.values?.at(-1)]);
    expect(asJson(o.data, el?.numpyDtype ?? '').at(-1)).toEqual(
      asJson((await a.getCoordinates(first)).data, el?.numpyDtype ?? '')[0],
    );
    if (a.dtype === 'datetime64' || a.dtype === 'timedelta64') {
      const unit = /\[(\d*)(\w+)\]/.exec(exp.dtype as string);
      expect([el?.timeScale, el?.timeUnit]).toEqual([Number(unit?.[1] || 1), unit?.[2]]);
      expect(c.data).toBeInstanceOf(BigInt64Array);
    } else {
      expect(el?.fixedLength).toBe(Number(/\d+$/.exec(exp.dtype as string)?.[0]));
    }
  });

  test.each(records)('%s (records)', async (key, exp) => {
    const a = await openArray(join(DIR, key));
    expect(a.dtype).toBe('record');
    const fields = a.numpyDtype?.fields ?? [];
    expect(fields.map((f) => [f.name, f.element.numpyDtype])).toEqual(exp.dtype);
    const r = await a.getRecords();
    expect(r.shape).toEqual(exp.shape);
    const got = Object.fromEntries(r.fields.map((f) => [f.name, asJson(f.data, f.element.numpyDtype)]));
    expect(got).toEqual(exp.fields);
    // a slice decodes the same records
    const part = await a.getRecords([slice(1, 3)]);
    expect(asJson(part.fields[0].data, fields[0].element.numpyDtype)).toEqual(exp.fields?.[fields[0].name].slice(1, 3));
    await expect(a.get()).rejects.toBeInstanceOf(InvalidInputError);
  });

  test('zarrs/v3_bytes.zarr (variable_length_bytes)', async () => {
    const a = await openArray(join(DIR, 'zarrs/v3_bytes.zarr'));
    expect(a.dtype).toBe('bytes');
    expect(a.numpyDtype).toBeNull();
    const c = await a.get();
    expect((c.data as Uint8Array[]).map((b) => [...b])).toEqual(EXPECTED['zarrs/v3_bytes.zarr'].values);
  });

  test('a rec-array without encoding attributes (anndata 0.7.8) reads as a RecArray', async () => {
    const key = 'anndata-0.7.8/O_recarray.zarr';
    const rec = (await readElem(await openArray(join(DIR, key)), { fallback: 'raw' })) as RecArray;
    expect(rec).toBeInstanceOf(RecArray);
    expect(Object.fromEntries(rec.fields.map((f) => [f.name, f.data]))).toEqual(EXPECTED[key].fields);
  });

  test.each([2, 3])('rank_genes_groups rec-arrays written by anndata 0.13.4 (zarr v%i)', async (fmt) => {
    const store = `generated/rank_genes_groups.v${fmt}.zarr`;
    const adata = await readZarr(join(DIR, store));
    const rgg = adata.uns.rank_genes_groups as Record<string, unknown>;
    for (const key of ['names', 'scores']) {
      const exp = EXPECTED[`${store}/uns/rank_genes_groups/${key}`];
      const rec = rgg[key] as RecArray;
      expect(rec).toBeInstanceOf(RecArray);
      expect(rec.shape).toEqual(exp.shape);
      sameDescr(
        rec.fields.map((f) => [f.name, f.numpyDtype ?? '']),
        exp.dtype,
      );
      expect(Object.fromEntries(rec.fields.map((f) => [f.name, asJson(f.data, f.numpyDtype ?? '')]))).toEqual(
        exp.fields,
      );
    }
  });
});

/**
 * The reference's reads of many arrays in one interpreter (each start imports numpy, zarr and
 * anndata: seconds), in request order; a read that failed is `{ error }`.
 */
function py(requests: string[][]): (Expected | { error: string })[] {
  const r = spawnSync(PY013, [join(ROOT, 'scripts', 'interop', 'numpy_read.py'), 'batch'], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`numpy_read.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const live = existsSync(PY013);
if (!live) console.log(`skipping live numpy-dtype round trips: ${PY013} is absent (scripts/setup-python.sh makes it)`);

describe.runIf(live)('what we write reads back identically in zarr-python and anndata 0.13.4', () => {
  test.each([2, 3] as const)('rank_genes_groups rec-arrays through writeZarr (zarr v%i)', async (fmt) => {
    const src = 'generated/rank_genes_groups.v3.zarr';
    const adata = await readZarr(join(DIR, src));
    // without a numpyDtype, string fields are sized by their longest value (as numpy does)
    const rgg = adata.uns.rank_genes_groups as Record<string, RecArray>;
    rgg.names = new RecArray(
      rgg.names.shape,
      rgg.names.fields.map(({ numpyDtype: _, ...f }) => f),
    );
    const out = join(tmp(), 'out.zarr');
    await writeZarr(out, adata, { zarrFormat: fmt });
    const keys = ['names', 'scores'];
    const got = py(keys.map((key) => ['anndata', out, `rank_genes_groups/${key}`]));
    keys.forEach((key, i) => {
      expect(got[i], key).toEqual(EXPECTED[`${src}/uns/rank_genes_groups/${key}`]);
    });
    const names = await openArray(out, 'uns/rank_genes_groups/names');
    expect(names.attrs).toMatchObject({ 'encoding-type': 'rec-array', 'encoding-version': '0.2.0' });
    expect(names.numpyDtype?.fields?.map((f) => f.element.numpyDtype)).toEqual(['<U4', '<U6', '<U4']);
  });

  const cases = [...records, ...plain].filter(([k]) => k.startsWith('generated/'));
  /** Each case written by createArray + set, or why that failed (its own test reports it). */
  const written = new Map<string, { out: string; fill: unknown; sourceFill: unknown } | { error: unknown }>();
  let reads: Map<string, Expected | { error: string }>;
  // Every case is written first and zarr-python reads them all in one process.
  beforeAll(async () => {
    for (const [key] of cases) {
      try {
        written.set(key, await writeCopy(key));
      } catch (error) {
        written.set(key, { error });
      }
    }
    const outs = [...written].flatMap(([key, w]) => ('out' in w ? [[key, w.out] as const] : []));
    const got = py(outs.map(([, out]) => ['zarr', out]));
    reads = new Map(outs.map(([key], i) => [key, got[i]]));
  });

  test.each(cases)('%s: createArray + set, re-read by zarr-python', (key, exp) => {
    const w = written.get(key);
    if (!w || 'error' in w) throw w?.error ?? new Error(`${key} was not written`);
    expect(reads.get(key)).toEqual(exp);
    expect(w.fill).toEqual(w.sourceFill);
  });
});

/** A copy of the fixture array `key` written by createArray + set (+ setAttributes). */
async function writeCopy(key: string): Promise<{ out: string; fill: unknown; sourceFill: unknown }> {
  const a = await openArray(join(DIR, key));
  const nd = a.numpyDtype;
  const numpyDtype = nd?.fields
    ? nd.fields.map((f): [string, string] => [f.name, f.element.numpyDtype])
    : nd?.element?.numpyDtype;
  const out = join(tmp(), 'a.zarr');
  const b = await createArray(out, '', {
    shape: a.shape,
    dtype: a.dtype,
    numpyDtype,
    chunks: [2],
    fillValue: a.dtype === 'record' ? a.metadata.fill_value : a.fillValue,
    ...(key.includes('sharded') ? { chunks: [1], shards: [2] } : {}),
    zarrFormat: a.zarrFormat,
  });
  if (a.dtype === 'record') {
    const r = await a.getRecords();
    await b.setRecords(null, r.fields);
  } else {
    await b.set(null, (await a.get()).data as never);
  }
  // rewriting metadata (attributes) keeps the numpy dtype on disk
  await b.setAttributes({ written: 'by zarrs-node' });
  return { out, fill: b.metadata.fill_value, sourceFill: a.metadata.fill_value };
}

describe.runIf(live)('bytes arrays we write read back in zarr-python', () => {
  test.each([2, 3] as const)('zarr v%i', async (fmt) => {
    const out = join(tmp(), 'b.zarr');
    const values = [Uint8Array.from([0, 1, 255]), new Uint8Array(0), new TextEncoder().encode('abc')];
    const a = await createArray(out, '', { shape: [3], dtype: 'bytes', chunks: [2], zarrFormat: fmt });
    await a.set(null, values);
    await a.set([slice(1, 2)], [Uint8Array.from([9])]);
    expect((py([['zarr', out]])[0] as Expected).values).toEqual([[0, 1, 255], [9], [97, 98, 99]]);
  });
});

describe('bad input gets typed errors naming the array', () => {
  test('corrupt item size, unknown and nested field types', async () => {
    const root = tmp();
    const store = await openStore(root);
    const put = (k: string, doc: unknown) => store.set(k, new TextEncoder().encode(JSON.stringify(doc)));
    const v3 = (dt: unknown) => ({
      zarr_format: 3,
      node_type: 'array',
      shape: [2],
      data_type: dt,
      chunk_grid: { name: 'regular', configuration: { chunk_shape: [2] } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
      fill_value: '',
      codecs: [{ name: 'bytes', configuration: { endian: 'little' } }],
    });
    await put('odd/zarr.json', v3({ name: 'fixed_length_utf32', configuration: { length_bytes: 6 } }));
    await expectError(openArray(root, 'odd'), InvalidMetadataError, 'odd', /length_bytes.*multiple of 4/);
    await put('cplx/.zarray', {
      zarr_format: 2,
      shape: [2],
      chunks: [2],
      dtype: [['a', '<c8']],
      fill_value: null,
      order: 'C',
      filters: null,
      compressor: null,
    });
    await expectError(openArray(root, 'cplx'), UnsupportedError, 'cplx', /field 'a'.*'<c8' is not supported/);
    await put('nested/.zarray', {
      zarr_format: 2,
      shape: [2],
      chunks: [2],
      dtype: [['a', [['b', '<f4']]]],
      fill_value: null,
      order: 'C',
      filters: null,
      compressor: null,
    });
    await expectError(openArray(root, 'nested'), UnsupportedError, 'nested', /field 'a' is a nested record/);
    await put('sub/.zarray', {
      zarr_format: 2,
      shape: [2],
      chunks: [2],
      dtype: [['a', '<f4', [3]]],
      fill_value: null,
      order: 'C',
      filters: null,
      compressor: null,
    });
    await expectError(openArray(root, 'sub'), UnsupportedError, 'sub', /field 'a' is a sub-array/);
    await put('fill/.zarray', {
      zarr_format: 2,
      shape: [2],
      chunks: [2],
      dtype: [['a', '<f4']],
      fill_value: 'AAAA',
      order: 'C',
      filters: null,
      compressor: null,
    });
    await expectError(openArray(root, 'fill'), InvalidMetadataError, 'fill', /fill value/);
  });

  test('a truncated chunk is a Codec error', async () => {
    const out = join(tmp(), 'r.zarr');
    const a = await createArray(out, '', {
      shape: [4],
      dtype: 'record',
      numpyDtype: [
        ['n', '<U3'],
        ['x', '<f8'],
      ],
      chunks: [4],
      compressors: null,
      zarrFormat: 2,
    });
    await a.setRecords(null, [
      { name: 'n', data: ['a', 'bb', 'ccc', ''] },
      { name: 'x', data: Float64Array.from([1, 2, 3, 4]) },
    ]);
    truncateSync(join(out, '0'), 30);
    const b = await openArray(out);
    const e = await b.getRecords().catch((err: ZarrsError) => err);
    expect((e as ZarrsError).code).toBe('Codec');
    expect((e as ZarrsError).key).toBe('');
  });

  test('writes check fields, lengths and string capacity', async () => {
    const out = join(tmp(), 'w.zarr');
    const a = await createArray(out, '', {
      shape: [2],
      dtype: 'record',
      numpyDtype: [
        ['n', '<U2'],
        ['x', '<i4'],
      ],
    });
    await expect(a.setRecords(null, [{ name: 'n', data: ['ab', 'c'] }])).rejects.toThrow(/field 'x' must be given/);
    await expect(
      a.setRecords(null, [
        { name: 'n', data: ['abc', 'c'] },
        { name: 'x', data: Int32Array.from([1, 2]) },
      ]),
    ).rejects.toThrow(/'abc' has 3 characters, more than the 2 of <U2/);
    await expect(
      a.setRecords(null, [
        { name: 'n', data: ['a', 'c'] },
        { name: 'x', data: Float64Array.from([1, 2]) },
      ]),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      createArray(join(tmp(), 'x.zarr'), '', { shape: [2], dtype: 'string', numpyDtype: '<M8[ns]' }),
    ).rejects.toThrow(/is a datetime64 dtype, but dtype is 'string'/);
    const t = await createArray(join(tmp(), 't.zarr'), '', { shape: [2], dtype: 'datetime64', numpyDtype: '<M8[ms]' });
    expect(t.fillValue).toBe(-9223372036854775808n);
    await t.set(null, BigInt64Array.from([5n, -1n]));
    expect((await t.get()).data).toEqual(BigInt64Array.from([5n, -1n]));
  });
});

test('a v3 record fill value lists its fields in field order, written, shown and reopened', async () => {
  // Not alphabetical, and enough fields that a hash order matches by chance almost never.
  const names = ['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a'];
  const dir = tmp();
  for (let i = 0; i < 3; i++) {
    const a = await createArray(dir, `r${i}`, {
      shape: [1],
      dtype: 'record',
      numpyDtype: names.map((n) => [n, '<i4']),
    });
    expect(Object.keys(a.metadata.fill_value as object)).toEqual(names);
    const doc = JSON.parse(readFileSync(join(dir, `r${i}`, 'zarr.json'), 'utf8')) as { fill_value: object };
    expect(Object.keys(doc.fill_value)).toEqual(names);
    const b = await openArray(dir, `r${i}`);
    expect(Object.keys(b.metadata.fill_value as object)).toEqual(names);
  }
});
