// Stores written by old anndata releases (0.7.0, 0.7.8: dataframe 0.1.0 with `__categories`,
// no root encoding attributes; 0.11.4) read here as python anndata reads the same store.
// python runs live: anndata 0.12 from .venv, and anndata 0.13 from .venv-anndata-0.13 when present.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RecArray, readZarr } from '../src-ts/anndata/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { PYTHON, ROOT } from './helpers.js';

const ARCHIVES = join(ROOT, '__test__', 'fixtures', 'anndata-archives');

/**
 * Where each archive is read from: the zip anndata ships (read as a zip store) and the same
 * archive unzipped. python reads the unzipped directory in both cases: it holds the same bytes.
 */
const STORES = ['v0.7.0', 'v0.7.8', 'v0.11.4'].flatMap((version) => {
  const dir = join(ARCHIVES, version, 'adata.zarr');
  const zip = join(ROOT, '__test__', 'fixtures', 'corpus', `anndata-${version.slice(1)}.zarr.zip`);
  return [
    { version, form: 'unzipped', location: dir, python: dir },
    { version, form: 'zipped', location: zip, python: dir },
  ];
});

const PYTHON_013 = join(ROOT, '.venv-anndata-0.13', 'bin', 'python');
const pythons: [string, string][] = [['anndata 0.12', PYTHON]];
if (existsSync(PYTHON_013)) pythons.push(['anndata 0.13', PYTHON_013]);

type J = Record<string, unknown>;

function pythonDump(python: string, location: string): { dump: J; anndataVersion: string } {
  const args = [join(ROOT, 'scripts', 'interop', 'anndata_read.py'), location];
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`anndata_read.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { dump: J; anndataVersion: string };
}

/** Our dump as python's in-memory object shows it: anndata 0.13 (pandas 3) reads string indexes as `str`. */
function pythonView(dump: J, anndataVersion: string): J {
  if (anndataVersion.startsWith('0.12')) return dump;
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x !== 'object' || x === null) return x;
    const o = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)])) as J;
    const index = o.index as J | undefined;
    if (o.type === 'dataframe' && index?.type === 'string-array') {
      o.index = { type: 'nullable-string-array', naValue: 'NaN', values: index.data };
    }
    return o;
  };
  return walk(dump) as J;
}

describe.each(STORES)('anndata archive $version ($form)', ({ location, python: pyLocation }) => {
  test.each(pythons)('reads what %s reads', async (_, python) => {
    // no raw fallback: every element (rec-arrays, `<U3` string scalars too) decodes
    const ours = await readZarr(location);
    const theirs = pythonDump(python, pyLocation);
    expect(pythonView(dumpAnnData(ours), theirs.anndataVersion)).toEqual(theirs.dump);
  });
});

test('dataframe 0.1.0: categoricals from __categories, with their ordered flag', async () => {
  const a = await readZarr(join(ARCHIVES, 'v0.7.8', 'adata.zarr'), { fallback: 'raw' });
  const ordered = a.obs.get('cat_ordered');
  const plain = a.obs.get('obs_cat');
  expect(ordered.kind === 'categorical' && ordered.ordered).toBe(true);
  expect(plain.kind === 'categorical' && !plain.ordered && plain.categories.kind === 'string').toBe(true);
});

test('a structured dtype without encoding attributes (anndata 0.7) reads as a RecArray', async () => {
  const a = await readZarr(join(ARCHIVES, 'v0.7.8', 'adata.zarr'));
  const rec = a.uns.O_recarray as RecArray;
  expect(rec).toBeInstanceOf(RecArray);
  expect(rec.shape).toEqual([20]);
  expect(rec.fields.map((f) => f.numpyDtype)).toEqual(Array(rec.fields.length).fill('<U4'));
  expect((a.uns.nested as Record<string, unknown>).scalar_str).toBe('str'); // a 0-d `<U3` array
});
