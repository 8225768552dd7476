// Every array of the third-party corpus (zarrita.js fixtures, zarrs' test data; see
// fixtures/corpus/README.md) read with zarrs-node and compared with what zarr-python 3.4.2 read
// from the same bytes (fixtures/corpus/manifest.json, written by
// scripts/fixtures/corpus_manifest.py). Both read the archives as zip stores.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isZarrsError, openArray, openStore, type Store, type ZArray } from '../src-ts/index.js';
import type { ElementType, NumericTypedArray, NumpyDtype } from '../src-ts/zarr/dtype.js';
import { ROOT } from './helpers.js';

const DIR = join(ROOT, '__test__', 'fixtures', 'corpus');

interface Entry {
  archive: string;
  path: string;
  zarrFormat: 2 | 3;
  shape?: number[];
  dtype?: string;
  sha256?: string;
  values?: number[];
  error?: string;
}

const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { arrays: Entry[] };

/**
 * What we cannot read (yet), by path, with the reason. The test fails if one of these starts to
 * read identically, so the list only ever shrinks. Empty now: numpy dtypes (fixed-length
 * strings, datetimes, records) and arrays below `__`-prefixed v2 groups read as zarr-python
 * reads them.
 */
const EXCEPTIONS: [RegExp, string][] = [];

/** zarr-python cannot read these, and neither can we: no data type zarrs-node has. */
const NEITHER: [RegExp, string][] = [
  [/(^|\/)1d\.contiguous\.json2\.O$/, 'the json2 object codec: neither zarr-python 3 nor zarrs has it'],
  [/\/array_optional(_nested)?\.zarr\/array$/, "zarrs' experimental optional data type"],
];

const match = (rules: [RegExp, string][], path: string) => rules.find(([re]) => re.test(path))?.[1];

const key = (e: { archive: string; zarrFormat: number; path: string }) => `${e.archive}:${e.zarrFormat}:${e.path}`;
const byKey = new Map(manifest.arrays.map((e) => [key(e), e]));

/**
 * Arrays zarr-python 3.4.2 (with the packages pinned in requirements-013.txt, which have no
 * pcodec or zfpy) cannot read, and what we check instead: zarrs wrote each codec's array from
 * the same data as the uncompressed one next to it, so it must decode to the values zarr-python
 * read from that one: exactly for pcodec, within the stored tolerance for zfpy (mode 4, fixed
 * accuracy, is lossy).
 */
function sameAs(e: Entry): string | undefined {
  const m = /^(.*\/)array_(pcodec|zfpy)(_C)?\.zarr$/.exec(e.path);
  return m ? key({ ...e, path: `${m[1]}array_none${m[3] ?? ''}.zarr` }) : undefined;
}

/**
 * Where zarr-python's answer is wrong (zarrs' test suite marks it a known zarr-python failure):
 * a v2 string array with `fill_value: 0` reads its missing chunk as "0". The same data with
 * `fill_value: null` is the right answer, and we must read that; zarr-python's must differ.
 */
const ZARR_PYTHON_WRONG: Record<string, string> = {
  'zarrs-testdata/zarr_python_compat/str_v2_fv_0.zarr': 'zarrs-testdata/zarr_python_compat/str_v2_fv_null.zarr',
};

/**
 * zarrs' own v3 codec name `bitround` (numcodecs' is `numcodecs.bitround`), which zarr-python
 * does not know: every value we read must be rounded to `keepbits` significant bits.
 */
const ZARRS_BITROUND = /\/codec\/bitround\/bitround_(float32|uint8)\.zarr$/;

function significantBits(a: ArrayLike<number>, dtype: string): number[] {
  if (dtype === 'float32') {
    const bits = new Uint32Array(Float32Array.from(a).buffer);
    // mantissa bits in use: 23 minus the trailing zeros of the mantissa (finite values only)
    return Array.from(bits)
      .filter((b) => (b & 0x7f800000) !== 0x7f800000 && (b & 0x7fffff) !== 0)
      .map((b) => 23 - Math.log2((b & 0x7fffff & -(b & 0x7fffff)) >>> 0));
  }
  // integers: the span from the highest to the lowest set bit
  return Array.from(a)
    .filter((v) => v !== 0)
    .map((v) => Math.floor(Math.log2(v)) - Math.log2(v & -v) + 1);
}

function digest(data: unknown): string {
  const h = createHash('sha256');
  if (Array.isArray(data)) {
    for (const s of data as (string | Uint8Array)[]) {
      const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(b.length));
      h.update(len);
      h.update(b);
    }
  } else {
    const v = data as ArrayBufferView;
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}

const stores = new Map<string, Store>();
afterAll(() => {
  for (const s of stores.values()) s.close();
});

async function storeOf(archive: string): Promise<Store> {
  let store = stores.get(archive);
  if (store === undefined) {
    store = await openStore(join(DIR, archive));
    stores.set(archive, store);
  }
  return store;
}

/** One fixed-size numpy element, little-endian, into `out` at `at` (as numpy lays it out). */
function putElement(out: Uint8Array, at: number, el: ElementType, data: NumericTypedArray | string[], i: number) {
  if (el.dtype === 'string') {
    const s = (data as string[])[i];
    if (el.numpyDtype.includes('S')) {
      out.set(new TextEncoder().encode(s), at);
      return;
    }
    const view = new DataView(out.buffer);
    [...s].forEach((c, k) => {
      view.setUint32(at + 4 * k, c.codePointAt(0) ?? 0, true);
    });
    return;
  }
  const t = data as NumericTypedArray;
  out.set(new Uint8Array(t.buffer, t.byteOffset + i * t.BYTES_PER_ELEMENT, t.BYTES_PER_ELEMENT), at);
}

/**
 * Arrays of a numpy dtype zarrs-node reads through raw bytes, as the manifest digests them:
 * the dtype in numpy spelling (records as `|V<itemsize>`) and the little-endian element bytes.
 */
async function readNumpy(a: ZArray, numpy: NumpyDtype): Promise<{ shape: number[]; dtype: string; data: Uint8Array }> {
  if (numpy.fields !== undefined) {
    const r = await a.getRecords();
    const n = numel(r.shape);
    const out = new Uint8Array(n * numpy.itemsize);
    numpy.fields.forEach((f, j) => {
      for (let i = 0; i < n; i++) putElement(out, i * numpy.itemsize + f.offset, f.element, r.fields[j].data, i);
    });
    return { shape: r.shape, dtype: `|V${numpy.itemsize}`, data: out };
  }
  const el = numpy.element as ElementType;
  const { data, shape } = await a.get();
  const n = numel(shape);
  const out = new Uint8Array(n * el.size);
  for (let i = 0; i < n; i++) putElement(out, i * el.size, el, data as NumericTypedArray | string[], i);
  return { shape, dtype: el.numpyDtype, data: out };
}

const numel = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

async function read(e: Entry): Promise<{ shape: number[]; dtype: string; sha256: string }> {
  const a = await openArray(await storeOf(e.archive), e.path, { zarrFormat: e.zarrFormat });
  if (a.numpyDtype !== null && a.dtype !== 'bytes') {
    const { shape, dtype, data } = await readNumpy(a, a.numpyDtype);
    return { shape, dtype, sha256: digest(data) };
  }
  const { data, shape } = await a.get();
  return { shape, dtype: a.dtype, sha256: digest(data) };
}

const counts = { identical: 0, zarrPythonReads: 0, total: manifest.arrays.length, sameAs: 0 };

describe('corpus', () => {
  for (const e of manifest.arrays) {
    const k = key(e);
    if (e.sha256 !== undefined) counts.zarrPythonReads++;
    const exception = match(EXCEPTIONS, e.path);
    const twin = sameAs(e);
    const right = ZARR_PYTHON_WRONG[e.path];
    if (right !== undefined) {
      test(`${k}: zarr-python reads it wrongly; we read it like ${right}`, async () => {
        const ref = byKey.get(key({ ...e, path: right }));
        expect(ref?.sha256).toBeDefined();
        expect(ref?.sha256).not.toBe(e.sha256);
        expect(await read(e)).toEqual({ shape: ref?.shape, dtype: ref?.dtype, sha256: ref?.sha256 });
      });
    } else if (ZARRS_BITROUND.test(e.path)) {
      test(`${k} (zarrs' codec name, unknown to zarr-python) reads rounded to keepbits`, async () => {
        const a = await openArray(await storeOf(e.archive), e.path, { zarrFormat: e.zarrFormat });
        const keepbits = Number(/"keepbits":(\d+)/.exec(JSON.stringify(a.metadata))?.[1]);
        expect(keepbits).toBeGreaterThan(0);
        const { data } = await a.get();
        const used = significantBits(data as ArrayLike<number>, a.dtype);
        expect(used.length).toBeGreaterThan(2);
        expect(Math.max(...used)).toBeLessThanOrEqual(keepbits);
      });
    } else if (e.sha256 !== undefined && exception === undefined) {
      test(`${k} reads as zarr-python reads it`, async () => {
        expect(await read(e)).toEqual({ shape: e.shape, dtype: e.dtype, sha256: e.sha256 });
        counts.identical++;
      });
    } else if (exception !== undefined) {
      test(`${k} is a listed exception (${exception})`, async () => {
        const got = await read(e).catch((err: unknown) => err);
        if (isZarrsError(got)) {
          expect(got.code).toBe('Unsupported');
          expect(`${got.key} ${got.message}`).toContain(e.path);
        } else {
          // It reads: it must still differ, or the exception is stale and must go.
          expect(got).not.toEqual({ shape: e.shape, dtype: e.dtype, sha256: e.sha256 });
        }
      });
    } else if (twin !== undefined) {
      test(`${k} (zarr-python: ${e.error?.split(':')[0]}) reads like its uncompressed twin`, async () => {
        const ref = byKey.get(twin);
        expect(ref?.sha256, twin).toBeDefined();
        if (!e.path.includes('zfpy')) {
          expect(await read(e)).toEqual({ shape: ref?.shape, dtype: ref?.dtype, sha256: ref?.sha256 });
        } else {
          const a = await openArray(await storeOf(e.archive), e.path, { zarrFormat: e.zarrFormat });
          const conf = JSON.stringify(a.metadata);
          const tolerance = Number(/"tolerance":([\d.e-]+)/.exec(conf)?.[1]);
          expect(tolerance).toBeGreaterThan(0);
          const { data, shape } = await a.get();
          expect([shape, a.dtype]).toEqual([ref?.shape, ref?.dtype]);
          const want = ref?.values as number[];
          expect(want).toHaveLength(data.length);
          const worst = Math.max(...Array.from(data as Float32Array, (v, i) => Math.abs(v - (want[i] as number))));
          expect(worst).toBeLessThanOrEqual(tolerance);
        }
        counts.sameAs++;
      });
    } else {
      const why = match(NEITHER, e.path);
      test(`${k} is unreadable for zarr-python too (${why})`, async () => {
        expect(why, `${k}: zarr-python says ${e.error}; list it above`).toBeDefined();
        const err = await read(e).catch((x: unknown) => x);
        expect(isZarrsError(err), String(err)).toBe(true);
        if (isZarrsError(err)) expect(`${err.key} ${err.message}`).toContain(e.path);
      });
    }
  }
  afterAll(() => {
    // Reported for the README: read identically / zarr-python reads / total.
    console.log(
      `corpus: ${counts.identical} read identically / ${counts.zarrPythonReads} zarr-python reads / ${counts.total} arrays` +
        ` (+${counts.sameAs} that zarr-python cannot read, checked against their uncompressed twin)`,
    );
  });
});
