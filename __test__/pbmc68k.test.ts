// Real data: scanpy's pbmc68k_reduced as python anndata 0.13.4 writes it (zarr v2 and v3,
// __test__/fixtures/pbmc68k, from scripts/fixtures/pbmc68k.py). We read each store completely
// and get python's object (canonical dumps, as in interop-anndata.test.ts); our rewrite of it
// in v2 and v3 satisfies python's own anndata.tests.helpers.assert_equal against python's
// object. Python runs from .venv-anndata-0.13 (missing: fails in CI, skipped elsewhere).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, test } from 'vitest';
import { type AnnData, readDispatched, writeZarr } from '../src-ts/anndata/index.js';
import { type Group, openGroup } from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'pbmc68k');
const STORES = ['v2.zarr', 'v3.zarr'] as const;
const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  stores: Record<(typeof STORES)[number], { recArrays: string[] }>;
};

// LEAD: rec-arrays (numpy structured arrays: uns/rank_genes_groups/names and /scores) are not
// readable yet; another branch adds them. Until it lands these two elements are left out on
// both sides, and the test asserts exactly these two are the ones left out. When it lands:
// read with readZarr, drop REC_ARRAYS (and the --drop arguments), and compare everything.
const REC_ARRAYS = ['uns/rank_genes_groups/names', 'uns/rank_genes_groups/scores'];

/**
 * Read a whole store, leaving out the rec-arrays: the dict holding them is read member by member
 * (opening a rec-array fails, so the callback must never reach them). Returns what was left out.
 */
async function readWithoutRecArrays(store: string): Promise<{ adata: AnnData; left: string[] }> {
  const left: string[] = [];
  const parents = new Set(REC_ARRAYS.map((p) => p.slice(0, p.lastIndexOf('/'))));
  const adata = (await readDispatched(await openGroup(store), async (read, _name, node) => {
    const path = node.path.replace(/^\//, '');
    if (!parents.has(path)) return read(node);
    const g = node as Group;
    const items: Record<string, unknown> = {};
    for (const m of await g.members()) {
      if (REC_ARRAYS.includes(`${path}/${m.name}`)) left.push(`${path}/${m.name}`);
      else items[m.name] = await read(m.kind === 'group' ? await g.openGroup(m.name) : await g.openArray(m.name));
    }
    return items;
  })) as AnnData;
  return { adata, left: left.sort() };
}

const MAPPINGS = new Set(['obs', 'var', 'obsm', 'varm', 'obsp', 'varp', 'layers', 'uns']);

/** Stored bytes per element: `X`, `raw`, or a member of a mapping (`obsm/X_pca`, `obs/louvain`). */
function elementBytes(store: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const parts = relative(store, p).split(sep);
        const elem = MAPPINGS.has(parts[0]) && parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
        sizes.set(elem, (sizes.get(elem) ?? 0) + statSync(p).size);
      }
    }
  };
  walk(store);
  return sizes;
}

function py<T>(script: string, args: string[]): T {
  if (!existsSync(PYTHON_013)) throw new Error(`${PYTHON_013} is missing: run 'bash scripts/setup-python.sh'`);
  const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', script), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const dropArgs = REC_ARRAYS.flatMap((p) => ['--drop', p]);

describe('pbmc68k_reduced written by anndata 0.13.4', () => {
  test.each(STORES)('the rec-arrays of %s are exactly the elements left out', (store) => {
    expect(manifest.stores[store].recArrays.map((p) => p.replace(/^\//, ''))).toEqual(REC_ARRAYS);
  });

  test('our default codecs store it no larger than python (zstd level 3) + 5%, per large element and in total', async () => {
    const { adata } = await readWithoutRecArrays(join(FIXTURES, 'v3.zarr'));
    const ours = join(tmp(), 'ours.zarr');
    await writeZarr(ours, adata);
    const python = elementBytes(join(FIXTURES, 'v3.zarr'));
    for (const p of REC_ARRAYS) python.delete(p.split('/').slice(0, 2).join('/'));
    const mine = elementBytes(ours);
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const over = [...python]
      .filter(([elem, bytes]) => bytes >= 64 * 1024 && (mine.get(elem) ?? 0) > 1.05 * bytes)
      .map(([elem, bytes]) => ({ elem, python: bytes, ours: mine.get(elem) }));
    expect(over).toEqual([]);
    expect(total(mine)).toBeLessThanOrEqual(1.05 * total(python));
  });

  describe.skipIf(skipWithoutPython(PYTHON_013))('against python', () => {
    test.each(STORES)('%s: we read it completely and equal python', async (store) => {
      const path = join(FIXTURES, store);
      const { adata, left } = await readWithoutRecArrays(path);
      expect(left).toEqual(REC_ARRAYS);
      expect(adata.shape).toEqual([700, 765]);
      const python = py<{ dump: unknown }>('anndata_read.py', [path, ...dropArgs]);
      const ours = dumpAnnData(adata);
      // toEqual on ~1M values is slow: it only runs to show the difference when there is one
      if (!isDeepStrictEqual(ours, python.dump)) expect(ours).toEqual(python.dump);
    });

    test.each([2, 3] as const)('we rewrite it as zarr v%i and python assert_equal holds', async (zarrFormat) => {
      const { adata } = await readWithoutRecArrays(join(FIXTURES, 'v3.zarr'));
      const ours = join(tmp(), 'ours.zarr');
      await writeZarr(ours, adata, { zarrFormat });
      // python's object: its own v2 store, which the generator checked equals the h5ad object
      const r = py<{ equal: boolean }>('anndata_assert_equal.py', [join(FIXTURES, 'v2.zarr'), ours, ...dropArgs]);
      expect(r.equal).toBe(true);
    });
  });
});
