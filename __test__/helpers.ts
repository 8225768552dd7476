// Shared test helpers: temp dirs, deterministic data per dtype, the Python reference venv.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { DataType, ZarrsError } from '../src-ts/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, '__test__', 'fixtures', 'zarr-python');
export const PYTHON = join(ROOT, '.venv', 'bin', 'python');
/** The current reference: anndata 0.13.4 on zarr-python 3.4.2 (python 3.12). */
export const PYTHON_013 = join(ROOT, '.venv-anndata-0.13', 'bin', 'python');

/** The python anndata versions live round trips run against, each from its venv. */
export const REFERENCE_PYTHONS = [
  { label: 'anndata 0.12.19 (.venv)', python: PYTHON },
  { label: 'anndata 0.13.4 + zarr 3.4.2 (.venv-anndata-0.13)', python: PYTHON_013 },
];

/**
 * Whether tests needing `python` skip: only outside CI, with the reason printed. In CI (`CI`
 * set, as .ci/run and CI services do) a missing venv must fail the tests, never hide them.
 */
export function skipWithoutPython(python: string): boolean {
  if (existsSync(python)) return false;
  const ci = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI);
  if (!ci) console.warn(`skipping tests that need ${python}: missing (run 'bash scripts/setup-python.sh')`);
  return !ci;
}

export const DTYPES: DataType[] = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float32',
  'float64',
  'string',
];

export function tmp(prefix = 'zn-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** float16 bits -> number (exact). */
export function f16ToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** number -> float16 bits (values used in tests are exactly representable). */
export function numberToF16(v: number): number {
  const f32 = new Float32Array([v]);
  const u = new Uint32Array(f32.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = (u >>> 13) & 0x3ff;
  if (v === 0) return sign;
  if (exp <= 0) return sign | ((((u & 0x7fffff) | 0x800000) >>> (14 - exp)) & 0x3ff);
  return sign | (exp << 10) | mant;
}

/** Deterministic test data: n elements of `dtype` (a TypedArray or string[]). */
export function makeData(dtype: DataType, n: number): ArrayLike<unknown> & Iterable<unknown> {
  const v = (i: number) => (i * 7) % 251;
  switch (dtype) {
    case 'bool':
      return Uint8Array.from({ length: n }, (_, i) => (v(i) % 3 === 0 ? 1 : 0));
    case 'int8':
      return Int8Array.from({ length: n }, (_, i) => v(i) - 120);
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => -3 * v(i));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => -100_000 * v(i));
    case 'int64':
      return BigInt64Array.from({ length: n }, (_, i) => BigInt(-v(i)) * 2n ** 40n);
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => v(i));
    case 'uint16':
      return Uint16Array.from({ length: n }, (_, i) => 200 * v(i));
    case 'uint32':
      return Uint32Array.from({ length: n }, (_, i) => 1_000_000 * v(i));
    case 'uint64':
      return BigUint64Array.from({ length: n }, (_, i) => BigInt(v(i)) * 2n ** 40n);
    case 'float16':
      return Uint16Array.from({ length: n }, (_, i) => numberToF16(v(i) / 4));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => v(i) / 8);
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => v(i) / 7);
    case 'string':
      return Array.from({ length: n }, (_, i) => (v(i) % 5 === 0 ? '' : `s${v(i)}-ü`));
    default:
      throw new Error(`no test data for ${dtype}`);
  }
}

/** Values as plain JSON-like scalars, comparable with what the Python reference prints. */
export function plain(dtype: DataType, data: ArrayLike<unknown>): unknown[] {
  return Array.from(data as ArrayLike<unknown>, (x) => {
    if (dtype === 'bool') return x === 1 || x === true;
    if (dtype === 'float16') return f16ToNumber(x as number);
    if (typeof x === 'bigint') return Number(x);
    if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
    return x;
  });
}

export interface PyResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function hasPython(): boolean {
  return existsSync(PYTHON);
}

/** Run a script under scripts/ with a reference venv (default `.venv`). */
export function py(script: string, args: string[], input?: string, python = PYTHON): PyResult {
  if (!existsSync(python)) {
    throw new Error(`${python} is missing: run 'bash scripts/setup-python.sh' (npm test and .ci/run do)`);
  }
  const r = spawnSync(python, [join(ROOT, 'scripts', script), ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function pyJson<T>(script: string, args: string[], input?: string, python = PYTHON): T {
  const r = py(script, args, input, python);
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Await `p` and check it rejects with `cls` naming `key` (and a message matching `msg`). */
export async function expectError(p: Promise<unknown>, cls: typeof ZarrsError, key: string, msg?: RegExp) {
  const e = await p.then(
    () => {
      throw new Error('expected an error');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  expect((e as ZarrsError).key).toBe(key);
  if (msg) expect((e as Error).message).toMatch(msg);
}
