// Corrupt-store corpus: seeded byte flips and truncations of every kind of file in a real store
// (pbmc68k_reduced written by python anndata 0.13.4 as v2 and as v3 sharded): chunks, shards,
// shard indexes, metadata documents; plus structured mutants (corrupt-mutants.py) that survive
// compression and checksums: vlen-utf8 length prefixes, shard index entries that overflow,
// 2^62 chunk shapes. Each mutant is read in a child process so that a crash is seen, not
// fatal: no crash, no hang, and every failure a coded ZarrsError (never Internal) naming a key.
// Flips inside a crc32c-protected shard index and every structured mutant are always caught.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readElem, readZarr, writeZarr } from '../src-ts/anndata/index.js';
import {
  CodecError,
  createArray,
  InvalidMetadataError,
  NotFoundError,
  openArray,
  openGroup,
  slice,
  type ZarrsError,
} from '../src-ts/index.js';
import { sampleAnnData } from './anndata-sample.js';
import { ROOT, tmp } from './helpers.js';
import { rng } from './rng.mjs';
import { startRangeServer } from './servers.js';

const FIXTURES = join(ROOT, '__test__', 'fixtures', 'pbmc68k');
const H5AD = join(ROOT, '..', '..', 'shared', 'corpora', 'real', '10x_pbmc68k_reduced.h5ad');
const PYTHON = join(ROOT, '.venv-anndata-0.13', 'bin', 'python');
/** Mutants per store, and child processes per store (each reads its own copy). */
const MUTANTS = 96;
const CHILDREN = 2;
/** A child that prints nothing for this long is hung on its current mutant. */
const HANG_MS = 60_000;

/** Structured mutants and the code their array's own read must fail with. */
const EXPECTED: Record<string, string> = {
  'vlen-prefix': 'Codec',
  'shard-entry': 'Codec',
  'chunk-shape': 'InvalidMetadata',
};

interface Mutant {
  id: number;
  /** Relative to the store; '' for the intact store (the baseline). */
  file: string;
  what: 'intact' | 'flip' | 'index-flip' | 'truncate' | keyof typeof EXPECTED;
  offset?: number;
  xor?: number;
  truncate?: number;
  /** A file holding the mutated bytes (structured mutants). */
  replace?: string;
}
interface Outcome {
  op: string;
  ok: boolean;
  zarrs?: boolean;
  code?: string;
  key?: string | null;
  message?: string;
}
interface Verdict {
  mutant: Mutant;
  results?: Outcome[];
  crash?: string;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/** The stores: the committed fixtures when present, else converted here the same way. */
function stores(): { v2: string; v3: string } {
  if (existsSync(join(FIXTURES, 'v2.zarr')) && existsSync(join(FIXTURES, 'v3.zarr'))) {
    return { v2: join(FIXTURES, 'v2.zarr'), v3: join(FIXTURES, 'v3.zarr') };
  }
  const dir = tmp('zn-pbmc-');
  const script = `
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
for fmt in (2, 3):
    ad.settings.zarr_write_format = fmt
    a.write_zarr(f"{sys.argv[2]}/v{fmt}.zarr")
`;
  const r = spawnSync(PYTHON, ['-W', 'ignore', '-c', script, H5AD, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`converting pbmc68k_reduced failed: ${r.stderr}`);
  return { v2: join(dir, 'v2.zarr'), v3: join(dir, 'v3.zarr') };
}

interface Layout {
  arrays: string[];
  /** Shard key -> byte length of its index (crc32c-protected, at the end). */
  indexBytes: Map<string, number>;
}

function layout(store: string): Layout {
  const arrays: string[] = [];
  const indexBytes = new Map<string, number>();
  for (const f of files(store)) {
    const name = f.split('/').pop();
    if (name !== 'zarr.json' && name !== '.zarray') continue;
    const doc = JSON.parse(readFileSync(join(store, f), 'utf8'));
    if (name === 'zarr.json' && doc.node_type !== 'array') continue;
    const path = f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '';
    arrays.push(path);
    const sharding = (doc.codecs ?? []).find((c: { name: string }) => c.name === 'sharding_indexed');
    if (!sharding) continue;
    const shard: number[] = doc.chunk_grid.configuration.chunk_shape;
    const inner: number[] = sharding.configuration.chunk_shape;
    const n = shard.reduce((p, s, d) => p * Math.ceil(s / inner[d]), 1);
    const crc = sharding.configuration.index_codecs.some((c: { name: string }) => c.name === 'crc32c');
    expect(crc, `${path}: the python default index has a crc32c`).toBe(true);
    for (const key of files(join(store, path)).filter((k) => k.startsWith('c/'))) {
      indexBytes.set(`${path}/${key}`, n * 16 + 4);
    }
  }
  return { arrays, indexBytes };
}

/** Seeded mutants over every file: flips and truncations anywhere, flips inside shard indexes. */
function mutants(store: string, lay: Layout, seed: number): Mutant[] {
  const all = files(store);
  const next = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
  const shards = [...lay.indexBytes.keys()];
  const out: Mutant[] = [];
  for (let id = 0; id < MUTANTS; id++) {
    // Spread evenly over the sorted files, so every kind of file is hit; a quarter of the
    // mutants flip a byte inside a shard index instead.
    const file = all[Math.floor((id * all.length) / MUTANTS)];
    const r = next();
    if (shards.length > 0 && r < 0.25) {
      const key = pick(shards);
      const size = statSync(join(store, key)).size;
      const idx = lay.indexBytes.get(key)!;
      out.push({
        id,
        file: key,
        what: 'index-flip',
        offset: size - 1 - Math.floor(next() * idx),
        xor: 1 + Math.floor(next() * 255),
      });
      continue;
    }
    const size = statSync(join(store, file)).size;
    if (size === 0 || r < 0.6) {
      out.push({ id, file, what: 'truncate', truncate: Math.floor(next() * size) });
    } else {
      out.push({ id, file, what: 'flip', offset: Math.floor(next() * size), xor: 1 + Math.floor(next() * 255) });
    }
  }
  return out;
}

/** Run mutants in a child, restarting after a crash; every mutant gets a verdict. */
async function runChild(store: string, arrays: string[], todo: Mutant[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  const copy = join(tmp('zn-mutant-'), 'store.zarr');
  cpSync(store, copy, { recursive: true });
  let rest = todo;
  while (rest.length > 0) {
    const jobFile = join(tmp('zn-job-'), 'job.json');
    writeFileSync(jobFile, JSON.stringify({ store: copy, arrays, mutants: rest }));
    const byId = new Map(rest.map((m) => [m.id, m]));
    let current: Mutant | undefined;
    let buf = '';
    const child = spawn(process.execPath, [join(ROOT, '__test__', 'corrupt-reader.mjs'), jobFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    let timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.stdout.on('data', (d) => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.start !== undefined) current = byId.get(line.start);
        else {
          verdicts.push({ mutant: byId.get(line.done)!, results: line.results });
          current = undefined;
        }
      }
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.once('exit', (c, s) => r([c, s])),
    );
    clearTimeout(timer);
    const finished = new Set(verdicts.map((v) => v.mutant.id));
    if (current !== undefined) {
      verdicts.push({ mutant: current, crash: `exit ${code} signal ${signal}: ${stderr}` });
      finished.add(current.id);
      // The crashed child could not restore the file: start the next one from a fresh copy.
      cpSync(join(store, current.file), join(copy, current.file));
    } else if (code !== 0) {
      throw new Error(`reader failed outside any mutant (exit ${code}): ${stderr}`);
    }
    rest = rest.filter((m) => !finished.has(m.id));
  }
  return verdicts;
}

/** Structured mutants written by corrupt-mutants.py with the store's own codecs. */
function structured(store: string, seed: number, firstId: number): Mutant[] {
  const out = tmp('zn-structured-');
  const r = spawnSync(PYTHON, [join(ROOT, '__test__', 'corrupt-mutants.py'), store, out, String(seed)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`corrupt-mutants.py failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Omit<Mutant, 'id'>[]).map((m, i) => ({ ...m, id: firstId + i }));
}

async function run(store: string, seed: number): Promise<Verdict[]> {
  const lay = layout(store);
  const intact: Mutant = { id: -1, file: '', what: 'intact' };
  const random = mutants(store, lay, seed);
  const ms = [intact, ...random, ...structured(store, seed, random.length)];
  const parts = Array.from({ length: CHILDREN }, (_, i) => ms.filter((m) => (m.id + CHILDREN) % CHILDREN === i));
  return (await Promise.all(parts.map((p) => runChild(store, lay.arrays, p)))).flat();
}

function describeMutant(m: Mutant): string {
  return `#${m.id} ${m.what} ${m.file}${m.replace === undefined ? '' : ` (${m.replace})`}${m.offset === undefined ? '' : ` @${m.offset}^${m.xor}`}${m.truncate === undefined ? '' : ` to ${m.truncate}`}`;
}

function check(verdicts: Verdict[]): void {
  const problems: string[] = [];
  let failures = 0;
  const baseline = new Map(verdicts.find((v) => v.mutant.what === 'intact')!.results!.map((r) => [r.op, r]));
  for (const v of verdicts) {
    if (v.crash) {
      problems.push(`${describeMutant(v.mutant)}: crash ${v.crash}`);
      continue;
    }
    for (const r of v.results!) {
      if (r.ok) continue;
      failures++;
      // the intact store reads completely (its rank_genes_groups rec-arrays too)
      if (v.mutant.what === 'intact') problems.push(`intact ${r.op}: ${r.code}: ${r.message}`);
      if (!r.zarrs) problems.push(`${describeMutant(v.mutant)} ${r.op}: not a ZarrsError: ${r.message}`);
      else if (r.code === 'Internal') problems.push(`${describeMutant(v.mutant)} ${r.op}: Internal: ${r.message}`);
      else if (!r.key) problems.push(`${describeMutant(v.mutant)} ${r.op}: ${r.code} without a key: ${r.message}`);
    }
    const expected = EXPECTED[v.mutant.what];
    if (expected) {
      // The array read alone fails with the expected code, where the intact array reads.
      for (const r of v.results!.filter((r) => r.op.startsWith('array ') && baseline.get(r.op)?.ok)) {
        if (r.ok || r.code !== expected)
          problems.push(`${describeMutant(v.mutant)} ${r.op}: expected ${expected}, got ${JSON.stringify(r)}`);
      }
    }
    if (v.mutant.what === 'index-flip') {
      // The array read alone must see the checksum mismatch.
      const own = v.results!.filter((r) => r.op.startsWith('array '));
      if (!own.some((r) => !r.ok && (r.code === 'Checksum' || r.code === 'Codec')))
        problems.push(`${describeMutant(v.mutant)}: index flip not caught: ${JSON.stringify(own)}`);
    }
  }
  expect(problems).toEqual([]);
  // The mutants are not all harmless: a test that cannot fail would prove nothing.
  expect(failures).toBeGreaterThan(verdicts.length / 4);
}

describe('corrupt pbmc68k_reduced stores', () => {
  let paths: { v2: string; v3: string };
  beforeAll(() => {
    paths = stores();
  });

  test('v2: flips and truncations of chunks and metadata', async () => {
    const verdicts = await run(paths.v2, 2);
    expect(verdicts.filter((v) => v.mutant.what === 'vlen-prefix').length).toBeGreaterThan(0);
    check(verdicts);
  });

  test('v3 sharded: flips and truncations of shards, shard indexes and metadata', async () => {
    const verdicts = await run(paths.v3, 3);
    for (const what of ['vlen-prefix', 'shard-entry', 'chunk-shape'])
      expect(verdicts.filter((v) => v.mutant.what === what).length, what).toBeGreaterThan(0);
    expect(verdicts.filter((v) => v.mutant.what === 'index-flip').length).toBeGreaterThan(MUTANTS / 8);
    check(verdicts);
  });
});

describe('an element whose own metadata document was deleted', () => {
  async function rejects(p: Promise<unknown>): Promise<ZarrsError> {
    return p.then(
      () => {
        throw new Error('expected an error');
      },
      (e: ZarrsError) => e,
    );
  }

  for (const zarrFormat of [2, 3] as const) {
    test(`v${zarrFormat}: reads without consolidated metadata fail naming the node`, async () => {
      const path = join(tmp(), 'a.zarr');
      await writeZarr(path, sampleAnnData(), { zarrFormat, consolidate: false });
      const intact = await readElem(await openGroup(path, '', { consolidated: 'ignore' }));
      expect(intact).toBeDefined();
      const [arrayDoc, groupDoc] = zarrFormat === 3 ? ['zarr.json', 'zarr.json'] : ['.zarray', '.zgroup'];
      rmSync(join(path, 'varp', 'corr', arrayDoc));
      const e = await rejects(readElem(await openGroup(path, '', { consolidated: 'ignore' })));
      expect(e).toBeInstanceOf(InvalidMetadataError);
      expect(e.key).toBe('varp/corr');
      expect(e.message).toMatch(/metadata is missing/);
      await expect(readZarr(path)).rejects.toBeInstanceOf(InvalidMetadataError);
      // A group: uns/nested loses its document; the rest of uns keeps its own.
      await writeZarr(path, sampleAnnData(), { zarrFormat, consolidate: false });
      rmSync(join(path, 'uns', 'nested', groupDoc));
      const g = await rejects(readElem(await openGroup(path, 'uns', { consolidated: 'ignore' })));
      expect(g).toBeInstanceOf(InvalidMetadataError);
      expect(g.key).toBe('uns/nested');
      // Nothing stored under a name is still simply absent.
      await expect(openGroup(path, 'uns/absent')).rejects.toBeInstanceOf(NotFoundError);
    });
  }
});

test('object store: an overflowing shard index entry is a Codec error naming the shard', async () => {
  const dir = tmp('zn-http-corrupt-');
  const x = await createArray(dir, 'x', { shape: [8, 8], dtype: 'int32', chunks: [2, 2], shards: [8, 8] });
  await x.set(
    null,
    Int32Array.from({ length: 64 }, (_, i) => i),
  );
  // Entry 5's offset (inner chunk [1, 1]) made to overflow u64 with offset + nbytes, under a
  // valid crc32c.
  const script = `
import struct, sys
from numcodecs import CRC32C
p = sys.argv[1]
data = open(p, "rb").read()
n = 16
index = data[-(n * 16 + 4):]
assert bytes(CRC32C().encode(index[:-4])) == index
entries = list(struct.unpack(f"<{2 * n}Q", index[:-4]))
entries[10] = 2**64 - 2
open(p, "wb").write(data[: -(n * 16 + 4)] + bytes(CRC32C().encode(struct.pack(f"<{2 * n}Q", *entries))))
`;
  const r = spawnSync(PYTHON, ['-c', script, join(dir, 'x', 'c', '0', '0')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const server = await startRangeServer(dir);
  try {
    // Whole shard, a partial region, an orthogonal gather and points: each path that asks the
    // index for byte ranges (object stores prefetch them) must check the entries first.
    const reads: ((a: Awaited<ReturnType<typeof openArray>>) => Promise<unknown>)[] = [
      (a) => a.get(),
      (a) => a.get([slice(0, 3), slice(0, 3)]),
      (a) =>
        a.getOrthogonal([
          [2, 5],
          [3, 6],
        ]),
      (a) =>
        a.getCoordinates([
          [0, 3],
          [1, 2],
        ]),
    ];
    for (const read of reads) {
      const e = await read(await openArray(server.url, 'x')).then(
        () => undefined,
        (err: ZarrsError) => err,
      );
      expect(e).toBeInstanceOf(CodecError);
      expect(e?.key).toBe('x/c/0/0');
      expect(e?.message).toMatch(/overflows/);
    }
    // Inner chunks with intact entries still read (entry 5 is inner chunk [1, 1]).
    const ok = await (await openArray(server.url, 'x')).getOrthogonal([
      [0, 7],
      [1, 6],
    ]);
    expect(Array.from(ok.data as Int32Array)).toEqual([1, 6, 57, 62]);
  } finally {
    await server.stop();
  }
});
