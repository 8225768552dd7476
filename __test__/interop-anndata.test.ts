// Interoperability with python anndata, the reference (the heart of the AnnData work):
// - stores written by anndata 0.12.19 and 0.13.4 (zarr v2 and v3, committed fixtures from the
//   pinned generator scripts/fixtures/anndata_fixtures.py) read here exactly as python built them;
// - live, both ways, against anndata 0.12.19 (.venv) and 0.13.4 + zarr 3.4.2 (.venv-anndata-0.13),
//   both made by scripts/setup-python.sh: python writes -> we read -> equal; we write -> python's
//   read_zarr reads -> equal, and python re-writing our store produces the same encodings we wrote.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, test } from 'vitest';
import { type AnnData, convertStringsToCategoricals, DataFrame, readZarr, writeZarr } from '../src-ts/anndata/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { sampleAnnData } from './anndata-sample.js';
import { REFERENCE_PYTHONS, ROOT, skipWithoutPython, tmp } from './helpers.js';

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'anndata');

interface Manifest {
  anndataVersion: string;
  zarrFormat: 2 | 3;
  cases: { name: string; store: string; expected: string; description: string }[];
}

const folders = readdirSync(FIXTURES).filter((f) => existsSync(join(FIXTURES, f, 'manifest.json')));

describe.each(folders)('fixtures written by anndata %s', (folder) => {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, folder, 'manifest.json'), 'utf8')) as Manifest;
  test.each(manifest.cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, folder, c.expected), 'utf8'));
    const adata = await readZarr(join(FIXTURES, folder, c.store));
    expect(dumpAnnData(adata)).toEqual(expected);
  });
});

function runPy<T>(python: string, script: string, args: string[], input?: string): T {
  if (!existsSync(python)) throw new Error(`${python} is missing: run 'bash scripts/setup-python.sh'`);
  const r = spawnSync(python, [join(ROOT, 'scripts', script), ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return (script.startsWith('interop/') ? JSON.parse(r.stdout) : r.stdout) as T;
}

type J = Record<string, unknown>;

/**
 * What python's in-memory object can express of a dump (documented in the fixtures' manifests):
 * 0-d scalars come back as python int/float; anndata < 0.13 reads every nullable string with
 * pd.NA, 0.13 (pandas 3) reads string indexes as `str`; obsm/varm frames take the index (and
 * its name) of obs/var.
 */
function pythonView(dump: J, anndataVersion: string): J {
  const d = structuredClone(dump);
  const old = anndataVersion.startsWith('0.12');
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      x.forEach(walk);
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    const o = x as J;
    if (o.type === 'numeric-scalar' && o.dtype !== 'bool')
      o.dtype = String(o.dtype).includes('int') ? 'int64' : 'float64';
    if (old && o.type === 'nullable-string-array') o.naValue = 'NA';
    // pandas 3 (anndata 0.13) turns object string indexes into its `str` dtype
    const index = o.index as J | undefined;
    if (!old && o.type === 'dataframe' && index?.type === 'string-array') {
      o.index = { type: 'nullable-string-array', naValue: 'NaN', values: index.data };
    }
    Object.values(o).forEach(walk);
  };
  walk(d);
  for (const [m, frame] of [
    ['obsm', 'obs'],
    ['varm', 'var'],
  ] as const) {
    for (const e of Object.values(d[m] as J)) {
      if ((e as J).type === 'dataframe') (e as J).indexName = (d[frame] as J).indexName;
    }
  }
  return d;
}

/** Every string index of every dataframe in `a` as a pandas-3 `str` (nullable-string, NaN). */
function withStrIndexes(a: AnnData): AnnData {
  const fix = (x: unknown): void => {
    if (x instanceof DataFrame) {
      if (x.index.kind === 'string') {
        x.index = { kind: 'nullable-string', values: x.index.data, mask: new Uint8Array(x.nRows), naValue: 'NaN' };
      }
    } else if (typeof x === 'object' && x !== null && !ArrayBuffer.isView(x)) Object.values(x).forEach(fix);
  };
  for (const v of [a.obs, a.var, a.obsm, a.varm, a.uns, a.raw]) fix(v);
  return a;
}

/** Our node's encoding entry as python's rewrite can reproduce it (see pythonView). */
function pythonEncoding(e: J, anndataVersion: string): J {
  const o = { ...e };
  if (o['encoding-type'] === 'numeric-scalar' && o.dtype !== 'bool') {
    o.dtype = String(o.dtype).includes('int') ? 'int64' : 'float64';
  }
  if (anndataVersion.startsWith('0.12')) delete o['na-value'];
  return o;
}

for (const { label, python } of REFERENCE_PYTHONS) liveRoundTrips(label, python);

function liveRoundTrips(label: string, python: string): void {
  describe.skipIf(skipWithoutPython(python))(`live round trips with ${label}`, () => {
    test.each([2, 3] as const)('we write zarr v%i -> python reads the same object', async (zarrFormat) => {
      const a = sampleAnnData();
      const path = join(tmp(), 'ours.zarr');
      await writeZarr(path, a, { zarrFormat });
      const got = runPy<{ dump: J; anndataVersion: string }>(python, 'interop/anndata_read.py', [path]);
      expect(got.dump).toEqual(pythonView(dumpAnnData(convertStringsToCategoricals(a)), got.anndataVersion));
    });

    test.each([2, 3] as const)(
      'python re-writing our zarr v%i store writes the encodings we wrote',
      async (zarrFormat) => {
        // pandas-3 style string indexes: anndata 0.13 re-writes any other string index that way
        const a = withStrIndexes(sampleAnnData());
        const ours = join(tmp(), 'ours.zarr');
        await writeZarr(ours, a, { zarrFormat });
        const theirs = join(tmp(), 'theirs.zarr');
        const re = runPy<{ encodings: Record<string, J>; anndataVersion: string }>(
          python,
          'interop/anndata_rewrite.py',
          [ours, theirs, '--zarr-format', String(zarrFormat), '--setting', 'allow_write_nullable_strings=true'],
        );
        const mine = runPy<{ encodings: Record<string, J> }>(python, 'interop/anndata_encodings.py', [ours]);
        expect(Object.keys(mine.encodings).sort()).toEqual(Object.keys(re.encodings).sort());
        const diffs = Object.entries(re.encodings)
          .filter(([path, enc]) => !isDeepStrictEqual(pythonEncoding(mine.encodings[path], re.anndataVersion), enc))
          .map(([path, enc]) => ({ path, ours: mine.encodings[path], python: enc }));
        expect(diffs).toEqual([]);
      },
    );

    test.each([2, 3] as const)(
      'python writes every fixture case as zarr v%i -> we read the same object',
      async (zarrFormat) => {
        const out = tmp();
        runPy(python, 'fixtures/anndata_fixtures.py', [out, '--zarr-format', String(zarrFormat)]);
        const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
        for (const c of m.cases) {
          const adata = await readZarr(join(out, c.store));
          expect(dumpAnnData(adata), c.name).toEqual(JSON.parse(readFileSync(join(out, c.expected), 'utf8')));
        }
      },
    );
  });
}
