// The `zarrs-node` CLI, run as users run it: the built `dist/cli/main.js` in a child process, on
// stores python anndata / zarr-python wrote. info is checked against the stores' own metadata
// files and file sizes; verify against copies with a changed value, a deleted element and a
// changed dtype; consolidate against python zarr opening the result consolidated.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { InfoArray, InfoNode, StoreInfo } from '../src-ts/cli/info.js';
import { consolidateMetadata, createArray, openArray, openStore } from '../src-ts/index.js';
import { PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';
import { type S3Server, startRangeServerProcess, startS3 } from './servers.js';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const PBMC = join(ROOT, '__test__', 'fixtures', 'pbmc68k');
const V2 = join(PBMC, 'v2.zarr');
const V3 = join(PBMC, 'v3.zarr');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: Run): T {
  return JSON.parse(r.stdout) as T;
}

function nodes(n: InfoNode): InfoNode[] {
  return [n, ...n.children.flatMap(nodes)];
}
function arrays(n: InfoNode): InfoArray[] {
  return nodes(n).flatMap((x) => [...(x.array ? [x.array] : []), ...Object.values(x.parts)]);
}

/** Bytes of every file under `dir` (an array's metadata and chunks). */
function du(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return t + (e.isDirectory() ? du(p) : statSync(p).size);
  }, 0);
}

/** What an array's own metadata file says about its layout. */
function storedLayout(store: string, path: string) {
  const dir = join(store, path);
  try {
    const m = JSON.parse(readFileSync(join(dir, 'zarr.json'), 'utf8'));
    const sharding = m.codecs.find((c: { name: string }) => c.name === 'sharding_indexed');
    const chain = sharding ? sharding.configuration.codecs : m.codecs;
    return {
      shape: m.shape,
      dtype: m.data_type,
      chunks: sharding ? sharding.configuration.chunk_shape : m.chunk_grid.configuration.chunk_shape,
      shards: sharding ? m.chunk_grid.configuration.chunk_shape : null,
      zstdLevel: chain.find((c: { name: string }) => c.name === 'zstd')?.configuration.level as number | undefined,
    };
  } catch {
    const m = JSON.parse(readFileSync(join(dir, '.zarray'), 'utf8'));
    return { shape: m.shape, dtype: m.dtype, chunks: m.chunks, shards: null, compressor: m.compressor };
  }
}

describe('info', () => {
  test.each([
    ['v2.zarr', V2],
    ['v3.zarr', V3],
  ])('%s --json: every array as its metadata files say, stored bytes as the files on disk', (_, store) => {
    const r = cli(['info', store, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const info = json<StoreInfo>(r);
    expect(info).toMatchObject({ layout: 'anndata', consolidated: true, zarrFormat: store === V2 ? 2 : 3 });
    expect(info.root).toMatchObject({ kind: 'anndata', shape: [700, 765], encoding: { type: 'anndata' } });

    const all = arrays(info.root);
    // every array of the store is in the tree once (the walk of its metadata files)
    const onDisk = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (
          e.name === '.zarray' ||
          (e.name === 'zarr.json' && JSON.parse(readFileSync(join(dir, e.name), 'utf8')).node_type === 'array')
        )
          onDisk.add(relative(store, dir));
        if (e.isDirectory()) walk(join(dir, e.name));
      }
    };
    walk(store);
    expect(new Set(all.map((a) => a.path))).toEqual(onDisk);
    expect(all.length).toBe(onDisk.size);

    for (const a of all) {
      const m = storedLayout(store, a.path);
      expect({ path: a.path, shape: a.shape, chunks: a.chunks, shards: a.shards }).toEqual({
        path: a.path,
        shape: m.shape,
        chunks: m.chunks,
        shards: m.shards,
      });
      expect(a.storedBytes, a.path).toBe(du(join(store, a.path)));
      if (m.zstdLevel !== undefined) expect(a.codecs, a.path).toContain(`zstd:${m.zstdLevel}`);
      if (store === V3 && ['float32', 'float64', 'int64', 'int32', 'int8', 'bool'].includes(m.dtype)) {
        expect(a.dtype, a.path).toBe(m.dtype);
      }
    }

    const X = info.root.children.find((c) => c.name === 'X')!;
    expect(X).toMatchObject({ kind: 'dense', dtype: 'float32', encoding: { type: 'array', version: '0.2.0' } });
    const stored = du(join(store, 'X'));
    expect(X.array!.decodedBytes).toBe(700 * 765 * 4);
    expect(X.array!.ratio).toBeCloseTo(stored / (700 * 765 * 4), 12);
    if (store === V2) {
      const c = storedLayout(store, 'X').compressor;
      expect(X.array!.codecs).toEqual([
        `${c.id}:${c.cname}:${c.clevel}:${['noshuffle', 'shuffle', 'bitshuffle'][c.shuffle]}`,
      ]);
    }
    // a CSR element shows its three arrays, and its size is theirs
    const rawX = nodes(info.root).find((n) => n.path === '/raw/X')!;
    expect(rawX).toMatchObject({ kind: 'sparse', encoding: { type: 'csr_matrix' }, shape: [700, 765] });
    expect(Object.keys(rawX.parts)).toEqual(['data', 'indices', 'indptr']);
    expect(rawX.storedBytes).toBe(
      du(join(store, 'raw', 'X', 'data')) +
        du(join(store, 'raw', 'X', 'indices')) +
        du(join(store, 'raw', 'X', 'indptr')),
    );
    // categoricals and nullable strings keep their encodings
    const obs = nodes(info.root).filter((n) => n.path.startsWith('/obs/'));
    expect(obs.find((n) => n.path === '/obs/louvain')?.encoding?.type).toBe('categorical');
    expect(obs.find((n) => n.path === '/obs/index')?.encoding?.type).toBe('nullable-string-array');
  });

  test('text: an aligned tree with the same values', () => {
    const r = cli(['info', V3]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${V3}: AnnData 700 obs x 765 vars, zarr v3, consolidated`);
    const header = lines[1];
    const col = (name: string) => header.indexOf(name);
    expect(col('encoding')).toBeGreaterThan(0);
    const x = lines.find((l) => l.startsWith('├── X '))!;
    const m = storedLayout(V3, 'X');
    const cell = (name: string, next: string) => x.slice(col(name), col(next)).trim();
    expect(cell('encoding', 'shape')).toBe('array 0.2.0');
    expect(cell('shape', 'dtype')).toBe('700 x 765');
    expect(cell('dtype', 'chunks')).toBe('float32');
    expect(cell('chunks', 'shards')).toBe(m.chunks.join(' x '));
    expect(cell('shards', 'codecs')).toBe(m.shards.join(' x '));
    expect(cell('codecs', 'stored')).toBe(`bytes, zstd:${m.zstdLevel}`);
    expect(lines.some((l) => /^│ {3}└── louvain +categorical 0\.2\.0 /.test(l))).toBe(true);
    expect(lines.some((l) => /^│ {3}│ {3}├── data +174400 +float32 /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^stored \d+\.\d+ MiB \(ratio 0\.\d{3}\)$/);
  });

  test('a plain zarr hierarchy (zarr-python) shows its groups and arrays', () => {
    const store = join(ROOT, '__test__', 'fixtures', 'zarr-python', 'v3', 'hierarchy.zarr');
    const r = cli(['info', pathToFileURL(store).href, '--json']);
    expect(r.status).toBe(0);
    const info = json<StoreInfo>(r);
    expect(info.layout).toBe('zarr');
    expect(nodes(info.root).map((n) => [n.path, n.kind])).toEqual([
      ['/', 'group'],
      ['/a', 'group'],
      ['/a/b', 'group'],
      ['/a/b/arr', 'array'],
      ['/empty', 'group'],
      ['/top', 'array'],
    ]);
    const arr = nodes(info.root).find((n) => n.path === '/a/b/arr')!.array!;
    expect(arr).toMatchObject({
      shape: [5, 4],
      dtype: 'int32',
      chunks: [2, 3],
      shards: null,
      codecs: ['bytes', 'zstd:0'],
    });
    expect(arr.storedBytes).toBe(du(join(store, 'a', 'b', 'arr')));
  });

  test('an array with a codec zarrs lacks shows with the reason, not as a failure', () => {
    const store = join(tmp('zn-cli-codec-'), 'unknown-codec.zarr');
    const meta = JSON.parse(
      readFileSync(
        join(ROOT, '__test__', 'fixtures', 'zarr-python', 'v3', 'hierarchy.zarr', 'top', 'zarr.json'),
        'utf8',
      ),
    );
    meta.codecs.push({ name: 'made_up_codec' });
    mkdirSync(join(store, 'odd'), { recursive: true });
    writeFileSync(join(store, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }));
    writeFileSync(join(store, 'odd', 'zarr.json'), JSON.stringify(meta));
    const r = cli(['info', store, '--json']);
    expect(r.status).toBe(0);
    const odd = json<StoreInfo>(r).root.children[0];
    expect(odd).toMatchObject({
      path: '/odd',
      kind: 'array',
      shape: meta.shape,
      dtype: meta.data_type,
      array: null,
      storedBytes: null,
    });
    expect(odd.unopened).toEqual({ code: 'Unsupported', message: expect.stringContaining('made_up_codec') });
    expect(json<StoreInfo>(r).root.storedBytes).toBeNull();
    expect(cli(['info', store]).stdout).toMatch(/└── odd +cannot open \(Unsupported\) +6 +uint8 /);
  });

  test('a zipped AnnData from before encoding attributes (anndata 0.7.0)', () => {
    const r = cli(['info', join(ROOT, '__test__', 'fixtures', 'corpus', 'anndata-0.7.0.zarr.zip'), '--json']);
    expect(r.status).toBe(0);
    const info = json<StoreInfo>(r);
    expect(info).toMatchObject({ layout: 'legacy', zarrFormat: 2, root: { shape: [30, 20] } });
  });
});

describe('verify', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp('zn-cli-verify-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('pbmc68k v2 and v3 (blosc unsharded vs zstd sharded) have the same content', () => {
    const r = cli(['verify', V2, V3]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^equal: \d+ elements of /);
    const j = json<{ equal: boolean; compared: number; differences: unknown[] }>(cli(['verify', V3, V2, '--json']));
    expect(j).toMatchObject({ equal: true, differences: [] });
    expect(j.compared).toBeGreaterThan(30);
  });

  test('every anndata 0.13.4 fixture (each encoding) is equal to itself written as v2 and as v3', () => {
    const base = join(ROOT, '__test__', 'fixtures', 'anndata');
    const stores = readdirSync(join(base, '0.13.4-v2')).filter((n) => n.endsWith('.zarr'));
    expect(stores.length).toBeGreaterThan(20);
    const failed = stores
      .map((s) => ({ s, r: cli(['verify', join(base, '0.13.4-v2', s), join(base, '0.13.4-v3', s)]) }))
      .filter(({ r }) => r.status !== 0)
      .map(({ s, r }) => `${s}: ${r.stdout}${r.stderr}`);
    expect(failed).toEqual([]);
    // across anndata versions the index encoding changed (0.13 writes nullable strings): reported
    const cross = json<{ differences: unknown[] }>(
      cli([
        'verify',
        join(base, '0.12.19-v2', 'categoricals.zarr'),
        join(base, '0.13.4-v3', 'categoricals.zarr'),
        '--json',
      ]),
    );
    expect(cross.differences).toEqual([
      expect.objectContaining({
        path: '/obs/_index',
        what: 'encoding',
        a: 'string-array 0.2.0',
        b: 'nullable-string-array 0.1.0',
      }),
      expect.objectContaining({ path: '/var/_index', what: 'encoding' }),
    ]);
  });

  test('a changed value, a deleted element and a changed dtype are each reported (exit 1)', async () => {
    const copy = join(dir, 'changed.zarr');
    cpSync(V3, copy, { recursive: true });
    const X = await openArray<'float32'>(copy, 'X');
    const before = (await X.get([3, 17])).data[0];
    await X.set([3, 17], before + 1);
    rmSync(join(copy, 'obsm', 'X_umap'), { recursive: true });
    await consolidateMetadata(copy);
    const n = await openArray<'int64'>(copy, 'obs/n_genes');
    const values = Float64Array.from((await n.get()).data, Number);
    const f = await createArray(copy, 'obs/n_genes', {
      shape: n.shape,
      dtype: 'float64',
      chunks: n.chunks,
      attributes: n.attrs,
      overwrite: true,
    });
    await f.set(null, values);

    const r = cli(['verify', V2, copy, '--json']);
    expect(r.status).toBe(1);
    const j = json<{ equal: boolean; differences: Record<string, unknown>[] }>(r);
    expect(j.equal).toBe(false);
    expect(j.differences).toEqual([
      expect.objectContaining({ path: '/X', what: 'value', index: [3, 17], count: 1 }),
      expect.objectContaining({ path: '/obs/n_genes', what: 'dtype', a: 'int64', b: 'float64' }),
      expect.objectContaining({ path: '/obsm/X_umap', what: 'missing', a: 'present', b: 'missing' }),
    ]);
    // float32 values in their shortest float32 spelling
    const [a, b] = [Number(j.differences[0].a), Number(j.differences[0].b)];
    expect([Math.fround(a), Math.fround(b)]).toEqual([before, Math.fround(before + 1)]);
    expect(String(a).length).toBeLessThan(String(before).length);
    const text = cli(['verify', V2, copy]);
    expect(text.status).toBe(1);
    expect(text.stdout.split('\n').slice(1, 4)).toEqual([
      `  /X: 1 value differs; first at [3, 17]: ${a} vs ${b}`,
      '  /obs/n_genes: dtype int64 vs float64',
      '  /obsm/X_umap: only in a (missing in b)',
    ]);
    // --max-differences stops early
    const one = json<{ differences: unknown[]; truncated: boolean }>(
      cli(['verify', V2, copy, '--json', '--max-differences', '1']),
    );
    expect(one).toMatchObject({ truncated: true });
    expect(one.differences).toHaveLength(1);
  });

  test('a changed category and a changed string are found at their position', async () => {
    const copy = join(dir, 'strings.zarr');
    cpSync(V2, copy, { recursive: true });
    const cats = await openArray<'string'>(copy, 'obs/louvain/categories');
    const values = (await cats.get()).data;
    await cats.set([4], `${values[4]}-renamed`);
    const idx = await openArray<'string'>(copy, 'var/index/values');
    await idx.set([10], 'not-a-gene');
    const j = json<{ differences: Record<string, unknown>[] }>(cli(['verify', V2, copy, '--json']));
    expect(j.differences).toEqual([
      expect.objectContaining({
        path: '/obs/louvain',
        what: 'value',
        part: 'categories',
        index: [4],
        b: JSON.stringify(`${values[4]}-renamed`),
      }),
      expect.objectContaining({ path: '/var/index', what: 'value', part: 'values', index: [10], b: '"not-a-gene"' }),
    ]);
  });
});

describe('consolidate', () => {
  let dir: string;
  beforeAll(() => {
    dir = tmp('zn-cli-consolidate-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The member paths python zarr's open_consolidated sees, or the error it raises. */
  function pythonConsolidated(store: string, format: 2 | 3): { members?: string[]; error?: string } {
    const script = `
import json, sys, zarr
try:
    g = zarr.open_consolidated(sys.argv[1], zarr_format=int(sys.argv[2]), mode="r")
    print(json.dumps({"members": sorted(g.metadata.consolidated_metadata.flattened_metadata)}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__}))
`;
    const r = spawnSync(PYTHON_013, ['-c', script, store, String(format)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  test.skipIf(skipWithoutPython(PYTHON_013)).each([2, 3] as const)(
    'v%s: restores removed consolidated metadata so python zarr opens the store consolidated',
    (format) => {
      const original = format === 2 ? V2 : V3;
      const store = join(dir, `v${format}.zarr`);
      cpSync(original, store, { recursive: true });
      if (format === 2) rmSync(join(store, '.zmetadata'));
      else {
        const root = JSON.parse(readFileSync(join(store, 'zarr.json'), 'utf8'));
        delete root.consolidated_metadata;
        writeFileSync(join(store, 'zarr.json'), JSON.stringify(root));
      }
      const expected = pythonConsolidated(original, format);
      expect(expected.members?.length).toBeGreaterThan(50);
      expect(pythonConsolidated(store, format).members).toBeUndefined();
      expect(json<StoreInfo>(cli(['info', store, '--json'])).consolidated).toBe(false);

      const r = cli(['consolidate', store]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const arrays = expected.members!.filter((m) => {
        const dirOf = join(original, m);
        return (
          readdirSync(dirOf).includes('.zarray') ||
          readFileSync(join(dirOf, format === 3 ? 'zarr.json' : '.zattrs'), 'utf8').includes('"node_type": "array"')
        );
      }).length;
      expect(r.stdout).toBe(
        `${store}: consolidated ${arrays} arrays and ${expected.members!.length - arrays} groups (zarr v${format}, ${format === 3 ? 'inline in the root zarr.json' : 'in .zmetadata'}; the store had none)\n`,
      );
      expect(pythonConsolidated(store, format)).toEqual(expected);
      expect(json<StoreInfo>(cli(['info', store, '--json'])).consolidated).toBe(true);
      // again: replaces what is there, same result
      const again = json<{ replaced: boolean }>(cli(['consolidate', store, '--json']));
      expect(again.replaced).toBe(true);
      expect(pythonConsolidated(store, format)).toEqual(expected);
    },
  );

  test('a read-only store (.zip) is a one-line ReadOnly error', () => {
    const r = cli(['consolidate', join(ROOT, '__test__', 'fixtures', 'corpus', 'anndata-0.7.0.zarr.zip')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^zarrs-node: ReadOnly: [^\n]+\n$/);
  });
});

describe('errors and exit codes', () => {
  test.each([
    [[], 'a command is required'],
    [['bogus'], "unknown command 'bogus'"],
    [['info'], "missing required argument 'store'"],
    [['info', V3, '--bogus'], "unknown option '--bogus'"],
    [['verify', V3], "missing required argument 'b'"],
    [['verify', V2, V3, '--max-differences', '0'], "option '--max-differences <n>' argument '0' is invalid"],
  ])('usage error %j exits 2 with one line', (args, message) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`zarrs-node: Usage: ${message}`);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('usage errors under --json are a JSON error object', () => {
    const r = cli(['info', V2, V3, '--json']);
    expect(r.status).toBe(2);
    expect(json(r)).toEqual({ error: { code: 'Usage', message: expect.stringContaining('too many arguments') } });
  });

  test('--help and --version exit 0', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    for (const c of ['info', 'consolidate', 'verify']) expect(help.stdout).toContain(c);
    const v = cli(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('a missing store exits 1 with one line naming it (and creates nothing)', () => {
    const missing = join(tmp('zn-cli-missing-'), 'nothing-here.zarr');
    for (const args of [
      ['info', missing],
      ['verify', V2, missing],
    ]) {
      const r = cli(args);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(`^zarrs-node: NotFound: '${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}': [^\n]+\n$`),
      );
    }
    const j = cli(['info', missing, '--json']);
    expect(j.status).toBe(1);
    expect(json(j)).toEqual({ error: { code: 'NotFound', message: expect.stringContaining(missing), key: missing } });
    expect(() => statSync(missing)).toThrow();
  });

  test('a store that is not AnnData cannot be verified: InvalidMetadata naming it', () => {
    const plain = join(ROOT, '__test__', 'fixtures', 'zarr-python', 'v3', 'hierarchy.zarr');
    const r = cli(['verify', plain, V3, '--json']);
    expect(r.status).toBe(1);
    expect(json(r)).toMatchObject({
      error: { code: 'InvalidMetadata', message: expect.stringContaining('not an AnnData group') },
    });
  });
});

describe('object stores', () => {
  let s3: S3Server;
  // in their own processes: the CLI runs synchronously from this one
  let web: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    [s3, web] = await Promise.all([startS3(), startRangeServerProcess(PBMC)]);
    // python's v3 store, key for key
    const dest = await openStore(`s3://${s3.bucket}/pbmc/v3.zarr`, {
      endpoint: s3.endpoint,
      allowHttp: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)],
      );
    await Promise.all(files(V3).map((f) => dest.set(relative(V3, f), readFileSync(f))));
  });
  afterAll(async () => {
    await Promise.all([s3?.stop(), web?.stop()]);
  });

  test('info and verify read s3:// stores with credentials from the environment', () => {
    const env = {
      AWS_ENDPOINT_URL: s3.endpoint,
      AWS_ALLOW_HTTP: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const url = `s3://${s3.bucket}/pbmc/v3.zarr`;
    const remote = json<StoreInfo>(cli(['info', url, '--json'], env));
    const local = json<StoreInfo>(cli(['info', V3, '--json']));
    expect(remote.root).toEqual(local.root);
    const r = cli(['verify', V2, url], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('plain HTTP (no listing): info shows the tree without sizes, verify works', () => {
    const url = `${web.url}/v3.zarr`;
    const r = cli(['info', url, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const remote = json<StoreInfo>(r);
    const local = json<StoreInfo>(cli(['info', V3, '--json']));
    const layout = (n: InfoNode): unknown[] =>
      nodes(n).map((x) => [x.path, x.encoding, x.shape, x.dtype, x.array?.chunks, x.array?.shards, x.array?.codecs]);
    expect(layout(remote.root)).toEqual(layout(local.root));
    expect(arrays(remote.root).every((a) => a.storedBytes === null && a.ratio === null)).toBe(true);
    expect(remote.root.storedBytes).toBeNull();
    expect(cli(['info', url]).stdout.trimEnd().split('\n').at(-1)).toBe(
      'stored bytes unknown: the store cannot list its keys',
    );
    expect(cli(['verify', url, V2]).status).toBe(0);
  });
});
