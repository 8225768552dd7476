// `zarrs-node convert` / `finalize` on files written by others: h5ad files from anndata 0.7 and
// 0.10-0.13 (none/gzip/lzf) and scanpy's pbmc68k, zarr v2/v3 stores from anndata 0.7 and 0.12/0.13.
// Python anndata 0.13.4 must read every output equal to its input (anndata.tests.helpers.assert_equal),
// and anndata 0.7's layouts come out as current AnnData. Then the
// job's promises: N-part runs and killed-then-resumed runs are byte-identical to one run, an
// unfinished output opens as Incomplete, bad input and existing outputs are refused, and an S3
// output (moto on loopback) is byte-identical to a local one.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type AnnDataBlock,
  AnnDataWriter,
  type AnnDataWriterOptions,
  CsrMatrix,
  col,
  DataFrame,
  readZarr,
} from '../src-ts/anndata/index.js';
import { autoPart, parsePart } from '../src-ts/convert/part.js';
import { convert, finalize } from '../src-ts/convert/run.js';
import { IncompleteError, InvalidInputError, openGroup, openStore } from '../src-ts/index.js';
import { PYTHON, PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';
import { type S3Server, startS3 } from './servers.js';
import * as writerBlocks from './writer-blocks.mjs';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const H5AD = join(ROOT, '__test__', 'fixtures', 'h5ad');
const ANNDATA = join(ROOT, '__test__', 'fixtures', 'anndata');
/** anndata's own archives: zarr stores as anndata 0.7.0 / 0.7.8 wrote them (unzipped) and the zips. */
const ARCHIVES = join(ROOT, '__test__', 'fixtures', 'anndata-archives');
const CORPUS = join(ROOT, '__test__', 'fixtures', 'corpus');
const dir = tmp('zn-convert-');

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As `cli`, without blocking this process (the S3 server it started must keep running). */
function cliAsync(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.resume();
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** An h5ad fixture, unpacked. */
function h5ad(name: string): string {
  const out = join(dir, name.replace(/\.gz$/, ''));
  if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(join(H5AD, name))));
  return out;
}

/** Every file under `root` with its bytes, as `relative path -> base64`, for byte identity. */
function files(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(root);
  return out;
}

interface Pair {
  expected: string;
  actual: string;
  drop?: string[];
  stringsAsObject?: boolean;
}

/** python anndata 0.13.4's assert_equal on each pair, in one interpreter. */
function pythonEqual(pairs: Pair[]): { equal: boolean; error?: string }[] {
  const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', 'anndata_assert_equal.py'), '-'], {
    input: JSON.stringify(pairs),
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`anndata_assert_equal.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// A synthetic input big enough for many shards: python anndata writes it (gzip h5ad).
let synthetic: string;
// Small shards so that every array has many of them.
const SMALL = { shardBytes: 256 * 1024, chunkBytes: 64 * 1024 };

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  if (skipWithoutPython(PYTHON)) return;
  synthetic = join(dir, 'synthetic.h5ad');
  const args = [join(ROOT, 'scripts', 'fixtures', 'convert_input.py'), synthetic, '6000', '800', '--with-zeros'];
  const r = spawnSync(PYTHON, args, {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`convert_input.py failed: ${r.stderr}`);
});

describe.skipIf(skipWithoutPython(PYTHON_013) || skipWithoutPython(PYTHON))(
  'python anndata 0.13.4 reads every output equal to its input',
  () => {
    test('h5ad (anndata 0.7.0, 0.7.8, 0.10.9, 0.11.4, 0.12.19, 0.13.4; none, gzip, lzf; pbmc68k) and zarr v2/v3 stores (anndata 0.7-0.13)', async () => {
      const pairs: Pair[] = [];
      // anndata 0.5.0's file stays refused (see 'bad input')
      const h5ads = readdirSync(H5AD).filter((f) => f.endsWith('.h5ad.gz') && !f.includes('v0.5.'));
      expect(h5ads.length).toBeGreaterThanOrEqual(13);
      expect(h5ads).toEqual(expect.arrayContaining(['archive-v0.7.0.h5ad.gz', 'archive-v0.7.8.h5ad.gz']));
      for (const f of h5ads) {
        const input = h5ad(f);
        const output = join(dir, 'eq', `${basename(input)}.zarr`);
        await convert(input, output);
        // anndata 0.13.4 reads a string-array column as pandas str from h5ad, object from zarr
        pairs.push({ expected: input, actual: output, stringsAsObject: true });
      }
      // python's own synthetic input: CSR X, a dense layer, uns with a None (null encoding)
      const syntheticOut = join(dir, 'eq', 'synthetic.zarr');
      await convert(synthetic, syntheticOut, SMALL);
      pairs.push({ expected: synthetic, actual: syntheticOut, stringsAsObject: true });
      const stores = readdirSync(ANNDATA)
        .filter((d) => statSync(join(ANNDATA, d)).isDirectory())
        .flatMap((d) =>
          readdirSync(join(ANNDATA, d))
            .filter((s) => s.endsWith('.zarr'))
            .map((s) => join(ANNDATA, d, s)),
        );
      expect(stores.length).toBeGreaterThanOrEqual(100);
      // anndata 0.7's zarr stores, as a directory and as the zip anndata wrote (compared with the
      // directory: python reads a zip path only through a ZipStore)
      for (const v of ['0.7.0', '0.7.8']) {
        const unzipped = join(ARCHIVES, `v${v}`, 'adata.zarr');
        for (const [i, input] of [unzipped, join(CORPUS, `anndata-${v}.zarr.zip`)].entries()) {
          const output = join(dir, 'eq', `archive-${v}-${i}.zarr`);
          await convert(input, output);
          pairs.push({ expected: unzipped, actual: output });
        }
      }
      for (const [i, input] of stores.entries()) {
        const output = join(dir, 'eq', `store-${i}-${basename(input)}`);
        await convert(input, output, i % 2 ? SMALL : {});
        // assert_equal compares a NaN scalar unequal to itself (the input fails against itself)
        pairs.push({ expected: input, actual: output, drop: input.endsWith('uns_scalars.zarr') ? ['uns/nan'] : [] });
      }
      const results = pythonEqual(pairs);
      const failed = results.flatMap((r, i) => (r.equal ? [] : [`${pairs[i].expected}: ${r.error}`]));
      expect(failed).toEqual([]);
    }, 240_000);
  },
);

describe.skipIf(skipWithoutPython(PYTHON))('partitioned, resumed and remote runs equal one run byte for byte', () => {
  test('2 and 3 parts (different thread counts) equal 1 part; finalize lists missing parts', async () => {
    const one = join(dir, 'parts', 'one.zarr');
    await convert(synthetic, one, SMALL);
    const reference = files(one);
    expect(Object.keys(reference).length).toBeGreaterThan(100);
    for (const count of [2, 3]) {
      const out = join(dir, 'parts', `${count}.zarr`);
      for (let index = count - 1; index >= 0; index--) {
        const r = await convert(synthetic, out, { ...SMALL, part: { index, count }, threads: index + 1 });
        expect(r.finalized).toBe(false);
        if (index > 0) {
          // not complete yet: opening says so, finalize names what is missing
          await expect(readZarr(out)).rejects.toBeInstanceOf(IncompleteError);
          const missing = Array.from({ length: index }, (_, i) => `${i + 1}/${count}`).join(', ');
          await expect(finalize(out)).rejects.toThrow(new RegExp(`parts? ${missing} ha(s|ve) not finished`));
        }
      }
      const f = await finalize(out);
      expect(f.parts).toBe(count);
      expect(files(out)).toEqual(reference);
    }
  }, 120_000);

  test('parts started at the same moment on an empty output all run (none sees the others as foreign data)', async () => {
    const one = join(dir, 'parts', 'one.zarr');
    const reference = files(one);
    // Each part reads the plan, then lists the output: another part's plan written in between
    // made the output look like someone else's data (seen in the benchmark's 2-part runs).
    for (let round = 0; round < 4; round++) {
      const out = join(dir, 'parts', `together-${round}.zarr`);
      await Promise.all([0, 1, 2].map((index) => convert(synthetic, out, { ...SMALL, part: { index, count: 3 } })));
      await finalize(out);
      expect(files(out)).toEqual(reference);
    }
  }, 120_000);

  test('finalize checks every stored shard: a damaged or lost one sends its part back to --resume', async () => {
    const one = join(dir, 'parts', 'one.zarr');
    if (!existsSync(one)) await convert(synthetic, one, SMALL); // made by the test above
    const reference = files(one);
    // obsm/zeros is all fill value: no shard of it is stored, and that is not a loss
    expect(Object.keys(reference).filter((k) => k.startsWith('obsm/zeros/c'))).toEqual([]);
    const out = join(dir, 'parts', 'damaged.zarr');
    for (const index of [0, 1]) await convert(synthetic, out, { ...SMALL, part: { index, count: 2 } });
    const shards = Object.keys(reference)
      .filter((k) => k.startsWith('layers/dense/c/'))
      .sort();
    const [flipped, gone] = [shards[1], shards[shards.length - 2]];
    const bytes = readFileSync(join(out, flipped));
    bytes[bytes.length - 9] ^= 0xff; // inside the index: its crc32c no longer holds
    writeFileSync(join(out, flipped), bytes);
    rmSync(join(out, gone));
    const e = await finalize(out).catch((x) => x);
    expect(e).toBeInstanceOf(IncompleteError);
    expect(e.message).toContain(`${flipped} (damaged: `);
    expect(e.message).toContain(`${gone} (missing, part `);
    const parts = [...new Set([...e.message.matchAll(/part (\d)\/2\)/g)].map((m) => Number(m[1])))];
    expect(e.message).toMatch(/Rerun parts? .* with --resume/);
    // those parts are unfinished now, and still unopenable
    await expect(finalize(out)).rejects.toThrow(/ha(s|ve) not finished/);
    await expect(readZarr(out)).rejects.toBeInstanceOf(IncompleteError);
    for (const p of parts) {
      const r = await convert(synthetic, out, { ...SMALL, part: { index: p - 1, count: 2 }, resume: true });
      expect(r.written).toBeGreaterThan(0);
      expect(r.skipped).toBeGreaterThan(0);
    }
    await finalize(out);
    expect(files(out)).toEqual(reference);
  }, 120_000);

  test('a conversion killed with SIGKILL half-way, then resumed, equals an uninterrupted one', async () => {
    const reference = join(dir, 'kill', 'reference.zarr');
    const flags = ['--shard-size', '64KiB', '--chunk-size', '16KiB', '--threads', '1', '--no-progress'];
    expect(cli(['convert', synthetic, reference, ...flags]).status).toBe(0);
    const out = join(dir, 'kill', 'killed.zarr');
    const child = spawn(process.execPath, [CLI, 'convert', synthetic, out, ...flags], { stdio: 'ignore' });
    // Kill once some of the dense layer's shards are stored, long before the run ends.
    const shards = join(out, 'layers', 'dense', 'c');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(shards) && readdirSync(shards).length >= 5) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const stored = readdirSync(shards).length;
    const total = readdirSync(join(reference, 'layers', 'dense', 'c')).length;
    expect(stored).toBeLessThan(total);
    // the killed output opens as unfinished, and a plain rerun refuses to touch it
    await expect(readZarr(out)).rejects.toBeInstanceOf(IncompleteError);
    const again = cli(['convert', synthetic, out, ...flags]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/unfinished conversion.*--resume/);
    const resumed = cli(['convert', synthetic, out, ...flags, '--resume', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).skipped).toBeGreaterThan(0);
    expect(files(out)).toEqual(files(reference));
  }, 120_000);

  describe('to S3 (moto on loopback)', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3('zn-convert');
    });
    afterAll(async () => {
      await s3?.stop();
    });

    test('the CLI writes the same keys and bytes to s3:// as to a local directory', async () => {
      const env = {
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_ENDPOINT_URL: s3.endpoint,
        AWS_ALLOW_HTTP: 'true',
        AWS_REGION: 'us-east-1',
      };
      const local = join(dir, 's3', 'local.zarr');
      const flags = ['--shard-size', '256KiB', '--no-progress'];
      expect(cli(['convert', synthetic, local, ...flags]).status).toBe(0);
      for (const i of [1, 2]) {
        const r = await cliAsync(
          ['convert', synthetic, `s3://${s3.bucket}/out.zarr`, ...flags, '--part', `${i}/2`],
          env,
        );
        expect(r.status, r.stderr).toBe(0);
      }
      expect((await cliAsync(['finalize', `s3://${s3.bucket}/out.zarr`], env)).status).toBe(0);
      const store = await openStore(`s3://${s3.bucket}/out.zarr`, {
        endpoint: s3.endpoint,
        allowHttp: true,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      });
      const remote: Record<string, string> = {};
      for (const k of await store.list('')) remote[k] = Buffer.from((await store.get(k)) ?? []).toString('base64');
      expect(remote).toEqual(files(local));
    }, 120_000);
  });
});

describe('anndata 0.7 inputs come out as current AnnData', () => {
  test('root anndata 0.1.0, dataframe 0.2.0 with categorical groups, encodings on every element', async () => {
    for (const input of [h5ad('archive-v0.7.8.h5ad.gz'), join(ARCHIVES, 'v0.7.8', 'adata.zarr')]) {
      const out = join(dir, 'legacy', `${basename(input)}.zarr`);
      await convert(input, out);
      const root = await openGroup(out, '');
      expect(root.attrs).toEqual({ 'encoding-type': 'anndata', 'encoding-version': '0.1.0' });
      const obs = await root.openGroup('obs');
      expect(obs.attrs).toMatchObject({ 'encoding-type': 'dataframe', 'encoding-version': '0.2.0', _index: '_index' });
      // no `__categories` group: each categorical holds its own codes and categories
      const names = (await obs.members()).map((m) => `${m.name}:${m.kind}`).sort();
      expect(names).toEqual([
        '_index:array',
        'cat_ordered:group',
        'float64:array',
        'int64:array',
        'obs_cat:group',
        'uint8:array',
      ]);
      for (const [col, ordered] of [
        ['obs_cat', false],
        ['cat_ordered', true],
      ] as const) {
        const cat = await obs.openGroup(col);
        expect(cat.attrs).toEqual({ 'encoding-type': 'categorical', 'encoding-version': '0.2.0', ordered });
        const codes = await cat.openArray('codes');
        expect(codes.attrs).toEqual({ 'encoding-type': 'array', 'encoding-version': '0.2.0' });
        expect(codes.dtype).toBe('int8');
        const categories = await cat.openArray('categories');
        expect(categories.attrs).toEqual({ 'encoding-type': 'string-array', 'encoding-version': '0.2.0' });
        // the values are the input's `__categories/<column>`, unchanged
        const { data } = await categories.get(null);
        expect((data as string[]).length).toBe(categories.shape[0]);
      }
      const spec = (path: string) => {
        const a = JSON.parse(readFileSync(join(out, path, 'zarr.json'), 'utf8')).attributes ?? {};
        return a['encoding-type'] === undefined ? 'none' : `${a['encoding-type']} ${a['encoding-version']}`;
      };
      expect(spec('uns')).toBe('dict 0.1.0');
      expect(spec('uns/O_recarray')).toBe('rec-array 0.2.0');
      expect(spec('uns/nested/scalar_str')).toBe('string 0.2.0');
      expect(spec('uns/nested/scalar_int')).toBe('numeric-scalar 0.2.0');
      expect(spec('obsm/array')).toBe('array 0.2.0');
      expect(spec('obsm/df')).toBe('dataframe 0.2.0');
      expect(spec('raw/varm')).toBe('dict 0.1.0');
      expect(spec('X')).toBe('csr_matrix 0.1.0');
      expect(spec('X/data')).toBe('none'); // parts of an element carry no encoding
      // our reader reads it as a current file, equal to the input (python's check: above)
      const a = await readZarr(out);
      expect(a.obs.get('cat_ordered')).toMatchObject({ kind: 'categorical', ordered: true });
    }
    // --verify reads the legacy input and the current output with our reader: equal
    const r = cli([
      'convert',
      join(ARCHIVES, 'v0.7.0', 'adata.zarr'),
      join(dir, 'legacy', 'verified.zarr'),
      '--verify',
    ]);
    expect(r.status, r.stderr).toBe(0);
  });

  test('the rewritten plan is the same in every part: 3 parts equal one run byte for byte', async () => {
    const input = h5ad('archive-v0.7.0.h5ad.gz');
    const one = join(dir, 'legacy', 'one.zarr');
    await convert(input, one, SMALL);
    const parts = join(dir, 'legacy', 'parts.zarr');
    for (const index of [2, 0, 1]) await convert(input, parts, { ...SMALL, part: { index, count: 3 } });
    await finalize(parts);
    expect(files(parts)).toEqual(files(one));
  });
});

describe('bad input and existing outputs', () => {
  test('files written by anndata before 0.7 are refused, naming the file and the element, with a way out', async () => {
    const input = h5ad('archive-v0.5.0.h5ad.gz');
    const out = join(dir, 'bad', 'archive-v0.5.0.zarr');
    const refused = convert(input, out);
    await expect(refused).rejects.toMatchObject({ code: 'Unsupported', key: 'raw.X' });
    await expect(refused).rejects.toThrow(
      /v0\.5\.0\.h5ad: 'raw\.X' is raw data stored at the root \(anndata before 0\.7\).*anndata\.read_h5ad\(path\)\.write_h5ad\(new_path\)/,
    );
    expect(existsSync(out)).toBe(false);
  });

  test('a 0.7 categorical whose categories are not where its reference says is refused, naming the column', async () => {
    // zarr: the `categories` attribute is a path; point it at nothing
    const store = join(dir, 'bad', 'v0.7.8-moved.zarr');
    cpSync(join(ARCHIVES, 'v0.7.8', 'adata.zarr'), store, { recursive: true });
    writeFileSync(join(store, 'obs', 'obs_cat', '.zattrs'), JSON.stringify({ categories: '__categories/nope' }));
    const refused = convert(store, join(dir, 'bad', 'v0.7.8-moved.out.zarr'));
    await expect(refused).rejects.toMatchObject({ code: 'InvalidMetadata', key: 'obs/obs_cat' });
    await expect(refused).rejects.toThrow(/categorical column 'obs\/obs_cat'.*names '__categories\/nope'/);
    expect(existsSync(join(dir, 'bad', 'v0.7.8-moved.out.zarr'))).toBe(false);
  });

  test.skipIf(skipWithoutPython(PYTHON_013))(
    'an h5ad whose categorical references break anndata 0.7 convention is refused, naming the column',
    async () => {
      // The object reference still finds the moved dataset (python anndata reads the file), but
      // the converter resolves references only by the convention `<df>/__categories/<column>`.
      const moved = join(dir, 'bad', 'v0.7.8-moved.h5ad');
      writeFileSync(moved, readFileSync(h5ad('archive-v0.7.8.h5ad.gz')));
      const py = spawnSync(
        PYTHON_013,
        [
          '-c',
          'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f.move("var/__categories/var_cat", "var/__categories/elsewhere"); f.close()',
          moved,
        ],
        { encoding: 'utf8' },
      );
      expect(py.status, py.stderr).toBe(0);
      const refused = convert(moved, join(dir, 'bad', 'v0.7.8-moved.h5ad.zarr'));
      await expect(refused).rejects.toMatchObject({ code: 'InvalidMetadata', key: 'var/var_cat' });
      await expect(refused).rejects.toThrow(
        /categorical column 'var\/var_cat'.*HDF5 object reference.*convention, 'var\/__categories\/var_cat'/,
      );
    },
  );

  test('a truncated or corrupt h5ad is a typed error and the CLI exits 1 with one line', () => {
    const clean = readFileSync(h5ad('ad0.13.4-gzip.h5ad.gz'));
    const truncated = join(dir, 'bad', 'truncated.h5ad');
    mkdirSync(join(dir, 'bad'), { recursive: true });
    writeFileSync(truncated, clean.subarray(0, Math.floor(clean.length / 3)));
    const garbage = join(dir, 'bad', 'garbage.h5ad');
    writeFileSync(garbage, Buffer.alloc(4096, 7));
    for (const input of [truncated, garbage]) {
      const r = cli(['convert', input, join(dir, 'bad', `${basename(input)}.zarr`)]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^zarrs-node: (InvalidMetadata|Codec|NotFound|Storage): /);
      expect(r.stderr).not.toMatch(/Internal|panicked/);
    }
  });

  test('an unfinished AnnDataWriter store is refused by convert and finalize, by name', async () => {
    const out = join(dir, 'writer-store.zarr');
    const lib = { CsrMatrix, DataFrame, col };
    // the writer tests' blocks (plain JS, typed there)
    const w = await AnnDataWriter.create(
      out,
      writerBlocks.createOptions(lib, 'csr') as unknown as AnnDataWriterOptions,
    );
    await w.append(writerBlocks.toBlock(writerBlocks.makeBlocks(1, 7)[0], lib, 'csr') as unknown as AnnDataBlock);
    const message = /unfinished AnnDataWriter store, not a conversion: finish it with AnnDataWriter\.resume/;
    await expect(finalize(out)).rejects.toThrow(message);
    await expect(convert(h5ad('ad0.13.4-none.h5ad.gz'), out)).rejects.toThrow(message);
    await expect(convert(h5ad('ad0.13.4-none.h5ad.gz'), out, { resume: true })).rejects.toThrow(message);
    // and the writer's store is untouched: it still resumes and closes
    await (await AnnDataWriter.resume(out)).close();
    expect((await readZarr(out)).nVars).toBe(writerBlocks.N_VARS);
  });

  test('an existing output is refused without --overwrite and replaced with it', async () => {
    const input = h5ad('ad0.13.4-none.h5ad.gz');
    const out = join(dir, 'exists.zarr');
    await convert(input, out);
    await expect(convert(input, out)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(convert(input, out)).rejects.toThrow(/already holds a zarr store; pass --overwrite/);
    const r = await convert(input, out, { overwrite: true });
    expect(r.finalized).toBe(true);
    await expect(convert(input, out, { overwrite: true, part: { index: 0, count: 2 } })).rejects.toThrow(
      /--overwrite cannot be combined with --part/,
    );
  });

  test('an unwritable destination is a typed error naming it', () => {
    const input = h5ad('ad0.13.4-none.h5ad.gz');
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = cli(['convert', input, join(file, 'out.zarr')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^zarrs-node: (Storage|InvalidInput): .*a-file/);
    const http = cli(['convert', input, 'http://127.0.0.1:9/out.zarr']);
    expect(http.status).toBe(1);
    expect(http.stderr).toMatch(/^zarrs-node: \w+: /);
  });

  test('--exclude leaves out whole elements only', async () => {
    const input = h5ad('pbmc68k_reduced.h5ad.gz');
    const out = join(dir, 'exclude.zarr');
    await convert(input, out, { exclude: ['uns/rank_genes_groups'] });
    const adata = await readZarr(out);
    expect(Object.keys(adata.uns)).not.toContain('rank_genes_groups');
    expect(Object.keys(adata.uns)).toContain('pca');
    await expect(convert(input, join(dir, 'x1.zarr'), { exclude: ['obs/louvain'] })).rejects.toThrow(
      /part of the dataframe element 'obs'/,
    );
    await expect(convert(input, join(dir, 'x2.zarr'), { exclude: ['uns/nope'] })).rejects.toThrow(/no element there/);
  });

  test('usage errors exit 2; bad sizes, parts and formats are named', () => {
    const input = h5ad('ad0.13.4-none.h5ad.gz');
    const out = join(dir, 'usage.zarr');
    expect(cli(['convert', input]).status).toBe(2);
    for (const [flags, msg] of [
      [['--shard-size', 'lots'], /--shard-size 'lots'/],
      [['--part', '4/3'], /part 4 of 3 does not exist/],
      [['--part', 'x'], /expected I\/N/],
      [['--zarr-format', '4'], /--zarr-format '4'/],
      [['--threads', '0'], /--threads '0'/],
    ] as const) {
      const r = cli(['convert', input, out, ...flags]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('--part auto reads the array-job environment of the scheduler', () => {
  test('Kubernetes Indexed Job, Slurm array, AWS Batch array', () => {
    expect(autoPart({ JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '4' })).toEqual({ index: 2, count: 4 });
    expect(autoPart({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toEqual({
      index: 2,
      count: 3,
    });
    expect(autoPart({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 0, count: 8 });
    expect(autoPart({ AWS_BATCH_JOB_ARRAY_INDEX: '5', AWS_BATCH_JOB_ARRAY_SIZE: '6' })).toEqual({ index: 5, count: 6 });
    expect(() => autoPart({ JOB_COMPLETION_INDEX: '1' })).toThrow(/JOB_COMPLETIONS is not/);
    expect(() => autoPart({ AWS_BATCH_JOB_ARRAY_INDEX: '6', AWS_BATCH_JOB_ARRAY_SIZE: '6' })).toThrow(/does not exist/);
    expect(() => autoPart({})).toThrow(/no array-job index/);
    expect(parsePart('2/8')).toEqual({ index: 1, count: 8 });
    expect(() => parsePart('0/8')).toThrow(/does not exist/);
  });

  test('the CLI takes the part from the environment', () => {
    const input = h5ad('ad0.13.4-none.h5ad.gz');
    const out = join(dir, 'auto.zarr');
    for (const i of ['0', '1']) {
      const r = cli(['convert', input, out, '--part', 'auto', '--json'], {
        JOB_COMPLETION_INDEX: i,
        JOB_COMPLETIONS: '2',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).part).toEqual({ index: Number(i), count: 2 });
    }
    expect(cli(['finalize', out]).status).toBe(0);
  });
});

test('a .zarr.zip input converts, and --verify compares the output with it', () => {
  const input = join(ROOT, '__test__', 'fixtures', 'corpus', 'anndata-0.11.4.zarr.zip');
  const r = cli(['convert', input, join(dir, 'from-zip.zarr'), '--verify', '--json']);
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout).finalized).toBe(true);
  const v = cli(['verify', input, join(dir, 'from-zip.zarr'), '--json']);
  expect(v.status, v.stdout).toBe(0);
});

test.skipIf(skipWithoutPython(PYTHON))('verify compares an h5ad with a store python anndata wrote from it', () => {
  const input = h5ad('pbmc68k_reduced.h5ad.gz');
  const store = join(dir, 'py-pbmc.zarr');
  const script = `import anndata as ad, sys
a = ad.read_h5ad(sys.argv[1]); a.write_zarr(sys.argv[2])
a.obsm['X_pca'][3, 7] += 1; a.write_zarr(sys.argv[2] + '.changed')`;
  const py = spawnSync(PYTHON, ['-c', script, input, store], { encoding: 'utf8' });
  expect(py.status, py.stderr).toBe(0);
  const same = cli(['verify', input, store, '--json']);
  expect(same.status, same.stdout).toBe(0);
  expect(JSON.parse(same.stdout).compared).toBeGreaterThan(30);
  const changed = cli(['verify', input, `${store}.changed`, '--json']);
  expect(changed.status).toBe(1);
  const diff = JSON.parse(changed.stdout).differences[0];
  expect(diff.path).toBe('/obsm/X_pca');
  expect(diff.index).toEqual([3, 7]);
  // --verify with an h5ad input would check the reader against itself: refused
  const r = cli(['convert', input, join(dir, 'self.zarr'), '--verify']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/--verify compares zarr inputs/);
});

test('a missing input is NotFound naming it', async () => {
  await expect(convert(join(dir, 'nope.h5ad'), join(dir, 'nope.zarr'))).rejects.toThrow(/nope\.h5ad: no such file/);
  await expect(convert(join(dir, 'nope.zarr'), join(dir, 'nope2.zarr'))).rejects.toThrow(
    /no AnnData zarr store or \.h5ad file there/,
  );
  expect(existsSync(join(dir, 'nope2.zarr'))).toBe(false);
});
