// AnnDataWriter: 1,000 random blocks equal writeZarr of the concatenated object (our dump and
// python anndata 0.13.4's assert_equal); an unfinished store opens as Incomplete; a SIGKILLed
// writer resumed and finished equals an uninterrupted one; bad blocks are typed errors that lose
// nothing; concurrent appenders lose no rows; checkpointRows bounds the rows a kill loses.

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  AnnData,
  type AnnDataBlock,
  AnnDataWriter,
  type AnnDataWriterOptions,
  CsrMatrix,
  col,
  convertStringsToCategoricals,
  DataFrame,
  readZarr,
  writeZarr,
} from '../src-ts/anndata/index.js';
import { IncompleteError, InvalidInputError, openArray } from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';
import * as shared from './writer-blocks.mjs';

// plain JS shared with the child process, typed here
const { csrOf, makeBlocks, N_VARS, PCA, SHARDS } = shared;
const createOptions = (l: typeof lib, f: Format) => shared.createOptions(l, f) as unknown as AnnDataWriterOptions;
const toBlock = (b: RawBlock, l: typeof lib, f: Format) => shared.toBlock(b, l, f) as unknown as AnnDataBlock;

type Format = 'csr' | 'dense';
interface RawBlock {
  n: number;
  counts: Float32Array;
  pca: Float64Array;
  cellType: string[];
  score: Float64Array;
  nGenes: Int32Array;
  missing: Uint8Array;
  barcode: string[];
  asCategorical?: boolean;
}

const lib = { CsrMatrix, DataFrame, col };
const dir = tmp('zn-writer-');
const SEED = 20261201;
const BLOCKS = 1000;
const all: RawBlock[] = makeBlocks(SEED, BLOCKS);
const blocks = all;

function concat<T extends Float32Array | Float64Array>(parts: T[], C: new (n: number) => T): T {
  const out = new C(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The whole object the blocks make, as writeZarr gets it. */
function expected(format: Format, blocks: RawBlock[] = all): AnnData {
  const counts = concat(
    blocks.map((b) => b.counts),
    Float32Array,
  );
  const n = blocks.reduce((a, b) => a + b.n, 0);
  const csr = (dtype: 'float32' | 'int32') => {
    const c = csrOf(counts, n, N_VARS);
    const data = dtype === 'int32' ? Int32Array.from(c.data) : c.data;
    return new CsrMatrix({ data, indices: c.indices, indptr: c.indptr, shape: [n, N_VARS] });
  };
  const dense = (dtype: 'float32' | 'int32') => ({
    dtype,
    data: dtype === 'int32' ? Int32Array.from(counts) : counts,
    shape: [n, N_VARS],
  });
  const barcode = blocks.flatMap((b) => b.barcode);
  return new AnnData({
    X: format === 'csr' ? csr('float32') : dense('float32'),
    obs: new DataFrame({
      index: barcode,
      columns: [
        // writeZarr stores repeated strings as a categorical with sorted categories
        ['cell_type', col.string(blocks.flatMap((b) => b.cellType))],
        [
          'score',
          col.numeric(
            concat(
              blocks.map((b) => b.score),
              Float64Array,
            ),
          ),
        ],
        ['barcode', col.string(barcode)],
        [
          'n_genes',
          {
            kind: 'nullable-integer',
            dtype: 'int32',
            values: Int32Array.from(blocks.flatMap((b) => [...b.nGenes])),
            mask: Uint8Array.from(blocks.flatMap((b) => [...b.missing])),
          },
        ],
      ],
    }),
    var: createOptions(lib, format).var,
    layers: { counts: format === 'csr' ? dense('int32') : csr('int32') },
    obsm: {
      X_pca: {
        dtype: 'float64',
        data: concat(
          blocks.map((b) => b.pca),
          Float64Array,
        ),
        shape: [n, PCA],
      },
    },
  });
}

async function writeAll(path: string, format: Format, from = 0): Promise<void> {
  const w =
    from === 0 ? await AnnDataWriter.create(path, createOptions(lib, format)) : await AnnDataWriter.resume(path);
  for (const b of blocks.slice(from)) await w.append(toBlock(b, lib, format));
  await w.close();
}

function assertEqualInPython(pairs: { expected: string; actual: string }[]) {
  const r = spawnSync(PYTHON_013, [join(ROOT, 'scripts', 'interop', 'anndata_assert_equal.py'), '-'], {
    input: JSON.stringify(pairs),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`anndata_assert_equal.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { equal: boolean; error?: string }[];
}

const stores: { expected: string; actual: string }[] = [];

describe.each(['csr', 'dense'] as const)('X as %s', (format) => {
  test('1,000 random blocks equal writeZarr of the concatenated object', async () => {
    const actual = join(dir, `${format}-writer.zarr`);
    const ref = join(dir, `${format}-writeZarr.zarr`);
    await writeAll(actual, format);
    await writeZarr(ref, expected(format), { shards: SHARDS });
    const [a, e] = await Promise.all([readZarr(actual), readZarr(ref)]);
    expect(a.nObs).toBeGreaterThan(5000);
    expect(a.obs.get('cell_type').kind).toBe('categorical');
    expect(dumpAnnData(a)).toEqual(dumpAnnData(e));
    stores.push({ expected: ref, actual });
  });
});

test('zarr format 2 (unsharded): the same content', async () => {
  const sub = blocks.slice(0, 150);
  const actual = join(dir, 'v2-writer.zarr');
  const ref = join(dir, 'v2-writeZarr.zarr');
  const w = await AnnDataWriter.create(actual, { ...createOptions(lib, 'csr'), zarrFormat: 2 });
  for (const b of sub) await w.append(toBlock(b, lib, 'csr'));
  await w.close();
  await writeZarr(ref, expected('csr', sub), { zarrFormat: 2, shards: SHARDS });
  expect(dumpAnnData(await readZarr(actual))).toEqual(dumpAnnData(await readZarr(ref)));
  stores.push({ expected: ref, actual });
});

test.skipIf(skipWithoutPython(PYTHON_013))('python anndata 0.13.4 reads the writer stores equal to writeZarr', () => {
  expect(stores.length).toBe(3);
  expect(assertEqualInPython(stores)).toEqual(stores.map(() => ({ equal: true })));
});

test('a store opens as Incomplete until close()', async () => {
  const path = join(dir, 'incomplete.zarr');
  const w = await AnnDataWriter.create(path, createOptions(lib, 'csr'));
  for (const b of blocks.slice(0, 200)) await w.append(toBlock(b, lib, 'csr'));
  await expect(readZarr(path)).rejects.toBeInstanceOf(IncompleteError);
  await w.close();
  expect((await readZarr(path)).nObs).toBe(blocks.slice(0, 200).reduce((a, b) => a + b.n, 0));
});

/**
 * Run the child writer on `path` until `stop(blocks, rows)` says so after some append, SIGKILL it,
 * and return the rows it had appended by then.
 */
async function killChild(path: string, stop: (blocks: number, rows: number) => boolean, args: string[] = []) {
  const child = spawn(process.execPath, [join(ROOT, '__test__', 'writer-child.mjs'), path, String(SEED), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rows = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() as string;
      for (const line of lines) {
        const [b, r] = line.split(' ').map(Number);
        if (stop(b, r)) {
          child.kill('SIGKILL');
          resolve(r);
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before it was killed`)));
  });
  await new Promise((r) => child.on('close', r));
  return rows;
}

/** Re-append every row from `from` on, in other block sizes than the first run, and close. */
async function finishFrom(w: AnnDataWriter, from: number): Promise<void> {
  const rest = blocks.flatMap((b) => Array.from({ length: b.n }, (_, i) => ({ b, i }))).slice(from);
  for (let s = 0; s < rest.length; s += 37) {
    const rows = rest.slice(s, s + 37);
    const one = (b: RawBlock, i: number): RawBlock => ({
      n: 1,
      counts: b.counts.slice(i * N_VARS, (i + 1) * N_VARS),
      pca: b.pca.slice(i * PCA, (i + 1) * PCA),
      cellType: [b.cellType[i]],
      score: b.score.slice(i, i + 1),
      nGenes: b.nGenes.slice(i, i + 1),
      missing: b.missing.slice(i, i + 1),
      barcode: [b.barcode[i]],
    });
    const merged = rows.map(({ b, i }) => one(b, i));
    const block: RawBlock = {
      n: merged.length,
      counts: concat(
        merged.map((m) => m.counts),
        Float32Array,
      ),
      pca: concat(
        merged.map((m) => m.pca),
        Float64Array,
      ),
      cellType: merged.flatMap((m) => m.cellType),
      score: concat(
        merged.map((m) => m.score),
        Float64Array,
      ),
      nGenes: Int32Array.from(merged.map((m) => m.nGenes[0])),
      missing: Uint8Array.from(merged.map((m) => m.missing[0])),
      barcode: merged.flatMap((m) => m.barcode),
    };
    await w.append(toBlock({ ...block, asCategorical: s % 2 === 0 }, lib, 'csr'));
  }
  await w.close();
}

const TOTAL_ROWS = blocks.reduce((a, b) => a + b.n, 0);
const MAX_BLOCK = Math.max(...blocks.map((b) => b.n));

test('a writer killed mid-way, resumed and finished equals an uninterrupted run', async () => {
  const path = join(dir, 'killed.zarr');
  // killed after 900 blocks: past the first shard of every array (the bool mask's 4096-row shards
  // are the longest), while appending more
  await killChild(path, (b) => b >= 900);
  await expect(readZarr(path)).rejects.toBeInstanceOf(IncompleteError);
  const w = await AnnDataWriter.resume(path);
  const resumedAt = w.nObs;
  // rows up to the last block end every array holds durably; the rest was lost with the child
  expect(resumedAt).toBeGreaterThan(0);
  expect(resumedAt).toBeLessThanOrEqual(TOTAL_ROWS);
  await finishFrom(w, resumedAt);
  // what the uninterrupted writer (first test) and writeZarr store
  const want = convertStringsToCategoricals(expected('csr'));
  expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(want));
});

test('checkpointRows bounds what a kill loses: resumed past 3 checkpoints, finished equal', async () => {
  const path = join(dir, 'checkpoints.zarr');
  // the policy's shards here (SHARDS) hold up to 4096 rows (the bool mask) and CSR data shards
  // about 170 rows; capped at 256 rows, a kill loses at most 256 rows plus the block in flight
  const cap = 256;
  const appended = await killChild(path, (_, r) => r >= 4 * cap + MAX_BLOCK, [String(cap)]);
  expect(appended).toBeLessThan(4096);
  const w = await AnnDataWriter.resume(path);
  const resumedAt = w.nObs;
  // 3 checkpoints at least (without the cap: 0, the mask's first shard was not full)
  expect(resumedAt).toBeGreaterThanOrEqual(3 * cap);
  expect(resumedAt).toBeGreaterThanOrEqual(appended - cap - MAX_BLOCK);
  await finishFrom(w, resumedAt);
  expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(convertStringsToCategoricals(expected('csr'))));
  if (!skipWithoutPython(PYTHON_013)) {
    // and python's assert_equal against the uninterrupted writer's store (the first test's)
    const pair = { expected: join(dir, 'csr-writer.zarr'), actual: path };
    expect(assertEqualInPython([pair])).toEqual([{ equal: true }]);
  }
});

test('a writer abandoned before its first durable row resumes at 0 (obs schema from the first block)', async () => {
  const path = join(dir, 'abandoned.zarr');
  const sub = blocks.slice(0, 20);
  const { obsSchema: _, ...opts } = createOptions(lib, 'csr');
  const first = await AnnDataWriter.create(path, opts);
  for (const b of sub) await first.append(toBlock(b, lib, 'csr'));
  // no close(): as if the process died here
  const w = await AnnDataWriter.resume(path);
  expect(w.nObs).toBe(0);
  for (const b of sub) await w.append(toBlock(b, lib, 'csr'));
  await w.close();
  const want = convertStringsToCategoricals(expected('csr', sub));
  expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(want));
});

test('default policy: row-indexed arrays hold at most 65,536 rows per shard, CSR data keeps its shards', async () => {
  const path = join(dir, 'default-layout.zarr');
  const { shards: _, ...opts } = createOptions(lib, 'csr');
  const w = await AnnDataWriter.create(path, opts);
  const sub = blocks.slice(0, 30);
  for (const b of sub) await w.append(toBlock(b, lib, 'csr'));
  // what resume would keep and what the writer buffers: one shard (or chunk) of rows per array
  const rowsPerShard = async (key: string) => {
    const a = await openArray(path, key);
    return (a.shards ?? a.chunks)[0];
  };
  const rowIndexed = ['obs/_index', 'obs/score', 'obs/barcode', 'obs/n_genes/values', 'obs/n_genes/mask'];
  for (const key of [...rowIndexed, 'X/indptr', 'layers/counts', 'obsm/X_pca']) {
    expect(await rowsPerShard(key), key).toBeLessThanOrEqual(65_536);
  }
  // non-zeros: 64 MiB of float32, the policy's
  expect(await rowsPerShard('X/data')).toBe(16 * 2 ** 20);
  await w.close();
  const want = convertStringsToCategoricals(expected('csr', sub));
  expect(dumpAnnData(await readZarr(path))).toEqual(dumpAnnData(want));
});

test('checkpointRows must be a positive integer', async () => {
  for (const checkpointRows of [0, 1.5, -3]) {
    const opts = { ...createOptions(lib, 'csr'), checkpointRows };
    const made = AnnDataWriter.create(join(dir, `bad-checkpoint-${checkpointRows}.zarr`), opts);
    await expect(made).rejects.toThrow(/'checkpointRows' must be a positive integer/);
    await expect(made).rejects.toBeInstanceOf(InvalidInputError);
  }
});

describe('bad blocks are typed errors and lose nothing', () => {
  test('wrong width, dtype, obs schema, mismatched rows', async () => {
    const path = join(dir, 'bad.zarr');
    const w = await AnnDataWriter.create(path, createOptions(lib, 'csr'));
    const good = blocks.slice(0, 50);
    for (const b of good.slice(0, 25)) await w.append(toBlock(b, lib, 'csr'));
    const b = blocks.find((x) => x.n > 2) as RawBlock;
    const block = () => toBlock(b, lib, 'csr');
    const wide = block();
    wide.X = new CsrMatrix({
      data: new Float32Array(0),
      indices: new Int32Array(0),
      indptr: new Int32Array(b.n + 1),
      shape: [b.n, N_VARS + 1],
    });
    await expect(w.append(wide)).rejects.toThrow(/append #26: '\/X' has shape .*expected \[\d+, 40\]/);
    const f64 = block();
    const x = f64.X as CsrMatrix;
    f64.X = new CsrMatrix({
      data: Float64Array.from(x.data as Float32Array),
      indices: x.indices,
      indptr: x.indptr,
      shape: x.shape,
      dtype: 'float64',
    });
    await expect(w.append(f64)).rejects.toThrow(/'\/X' has dtype float64, expected float32/);
    const extra = block();
    extra.obs.set('batch', col.string(Array(b.n).fill('b1')));
    await expect(w.append(extra)).rejects.toThrow(/'\/obs\/batch' is not in the obs schema/);
    const kind = block();
    kind.obs.set('score', col.string(Array(b.n).fill('x')));
    await expect(w.append(kind)).rejects.toThrow(/'\/obs\/score' is a string column, the obs schema says numeric/);
    const rows = block();
    rows.obsm = { X_pca: { dtype: 'float64', data: new Float64Array((b.n - 1) * PCA), shape: [b.n - 1, PCA] } };
    await expect(w.append(rows)).rejects.toThrow(/'\/obsm\/X_pca' has shape .*the block's obs has/);
    const missing = block();
    missing.layers = {};
    await expect(w.append(missing)).rejects.toThrow(/'\/layers\/counts' is missing/);
    for (const bad of [wide, f64, extra, kind, rows, missing]) {
      await expect(w.append(bad)).rejects.toBeInstanceOf(InvalidInputError);
    }
    for (const g of good.slice(25)) await w.append(toBlock(g, lib, 'csr'));
    await w.close();
    const n = good.reduce((a, g) => a + g.n, 0);
    const a = await readZarr(path);
    expect(a.nObs).toBe(n);
    expect(a.obsNames).toEqual(good.flatMap((g) => g.barcode));
  });
});

test('4 concurrent appenders lose and interleave no rows', async () => {
  const path = join(dir, 'concurrent.zarr');
  const w = await AnnDataWriter.create(path, createOptions(lib, 'dense'));
  const mine = blocks.slice(0, 400);
  // four callers, each appending every fourth block, one await at a time
  await Promise.all(
    [0, 1, 2, 3].map(async (k) => {
      for (let i = k; i < mine.length; i += 4) await w.append(toBlock(mine[i], lib, 'dense'));
    }),
  );
  expect(w.nObs).toBe(mine.reduce((a, b) => a + b.n, 0));
  await w.close();
  const a = await readZarr(path);
  // every row once, with its own values, and each block's rows together
  const rowOf = new Map(mine.flatMap((b) => b.barcode.map((c, i) => [c, { b, i }] as const)));
  expect([...a.obsNames].sort()).toEqual([...rowOf.keys()].sort());
  const X = (a.X as { data: Float32Array }).data;
  a.obsNames.forEach((name, r) => {
    const { b, i } = rowOf.get(name) as { b: RawBlock; i: number };
    expect(X.subarray(r * N_VARS, (r + 1) * N_VARS)).toEqual(b.counts.subarray(i * N_VARS, (i + 1) * N_VARS));
    if (i > 0) expect(a.obsNames[r - 1]).toBe(b.barcode[i - 1]);
  });
});
