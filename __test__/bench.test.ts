// The benchmark harness runs in smoke mode (tiny data, every peer) so it never rots. Timings are
// never asserted: these machines are noisy, and bench/ reports ratios instead.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { rawBinary } from '../bench/raw-bin.mjs';
import { PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';

// scripts/test.sh builds it before vitest starts; building it here would blow the timeout.
const RAW_BIN = rawBinary(ROOT, 'ci');
const PYTHON_PEERS = ['zarr-python', 'zarrs-python', 'tensorstore'];

interface BenchRow {
  variant: string;
  peer: string;
  op: string;
  error?: string;
  checksumOk?: boolean;
  medianMs?: number;
}

test('bench/run.mjs --smoke runs every peer on every variant, checks what they read and writes a report', () => {
  if (!RAW_BIN) {
    throw new Error(
      `the raw-zarrs peer is missing: run 'cargo build --profile ci -p zarrs-node-bench-raw' (npm test does)`,
    );
  }
  // Python peers run when the venv exists; without it they are skipped with a reason, except in CI.
  const withPython = !skipWithoutPython(PYTHON_013);
  const out = tmp('zn-bench-');
  execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'run.mjs'), '--smoke', '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const [json] = readdirSync(out).filter((f) => f.endsWith('.json'));
  const { rows, whole, limits, meta } = JSON.parse(readFileSync(join(out, json), 'utf8')) as {
    rows: BenchRow[];
    whole: BenchRow[];
    limits: { zstd?: { decode1: number; decodeN: number } };
    meta: { skipped: { peer: string; reason: string }[] };
  };
  const peers = ['zarrs-node', 'raw-zarrs', 'zarrita', ...(withPython ? PYTHON_PEERS : [])];
  expect(new Set(rows.map((r) => r.peer))).toEqual(new Set(peers));
  if (!withPython) expect(meta.skipped.map((s) => s.peer)).toEqual(PYTHON_PEERS);
  expect(new Set(rows.map((r) => r.variant))).toEqual(
    new Set(['uncompressed', 'zstd0', 'sharded', 'sharded32', 'blosc']),
  );
  // Every measured operation read (or wrote) the generated values; only zarrita's sharded
  // writes may be missing, as zarrita cannot write sharded arrays.
  for (const r of rows) {
    if (r.error)
      expect(`${r.peer} ${r.variant} ${r.op}: ${r.error}`).toMatch(/^zarrita sharded(32)? (write|round_trip)/);
    else expect(r.checksumOk, `${r.peer} ${r.variant} ${r.op}`).toBe(true);
  }
  for (const peer of ['zarrs-node', 'raw-zarrs']) {
    expect(rows.filter((r) => r.peer === peer && r.variant === 'sharded').map((r) => r.op)).toEqual([
      'write',
      'read_all',
      'chunks_1',
      'chunks_2',
      'inner_1',
      'inner_2',
      'round_trip',
      'random',
      'single',
    ]);
  }
  expect(whole.filter((w) => !w.error).map((w) => w.peer)).toEqual(peers);
  expect(limits.zstd?.decodeN).toBeGreaterThan(0);
  const md = readFileSync(join(out, 'smoke.md'), 'utf8');
  expect(md).toContain('| operation | zarrs-node | raw zarrs (Rust) | zarrita.js |');
  expect(md).toMatch(/decode [\d.]+ GB\/s on one core/);
  expect(readFileSync(join(out, 'smoke.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<rect [\s\S]*<\/svg>\n$/);
}, 600_000);

test('bench/anndata/run.mjs --smoke runs zarrs-node and python anndata and writes a report', () => {
  const out = tmp('zn-bench-anndata-');
  execFileSync(process.execPath, [join(ROOT, 'bench', 'anndata', 'run.mjs'), '--smoke', '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const md = readFileSync(join(out, 'anndata-latest.md'), 'utf8');
  expect(md).toMatch(/\| zarrs-node \| \d+ \| \d+ \| 1\.00x \| 1\.00x \|/);
  expect(md).toMatch(/\| anndata 0\.12\.\d+ \|/);
  expect(md).toContain('reads the zarrs-node store');
}, 120_000);

test('bench/objstore.mjs --smoke measures every peer through the latency proxy', () => {
  const out = tmp('zn-objbench-');
  execFileSync(process.execPath, [join(ROOT, 'bench', 'objstore.mjs'), '--smoke', '--out', out, '--latency', '2'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const md = readFileSync(join(out, 'objstore-smoke.md'), 'utf8');
  for (const peer of ['zarrs-node (coalescing, default)', 'zarrs-node (coalesce: false)', 'zarrita.js FetchStore'])
    expect(md).toContain(peer);
  expect(md).toMatch(/fewer/);
});

test('bench/anndata/codecs.mjs measures every candidate codec and the default on pbmc68k', () => {
  const json = join(tmp('zn-codecs-'), 'codecs.json');
  const store = join(ROOT, '__test__', 'fixtures', 'pbmc68k', 'v3.zarr');
  const args = ['--reps', '1', '--only', 'X', '--only', 'raw/X/indices', '--json', json];
  const md = execFileSync(process.execPath, [join(ROOT, 'bench', 'anndata', 'codecs.mjs'), store, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  expect(md).toMatch(/\| X \| float32 \|/);
  expect(md).toMatch(/\| writeZarr default \| \d+ \|/);
  const result = JSON.parse(readFileSync(json, 'utf8')) as { rows: { path: string; codecs: object }[] };
  expect(result.rows.map((r) => r.path)).toEqual(['X', 'raw/X/indices']);
  for (const r of result.rows) expect(Object.keys(r.codecs)).toContain('writeZarr default');
});

test.skipIf(skipWithoutPython(PYTHON_013))(
  'bench/anndata/lazy.mjs --quick measures readLazy and python read_lazy (both pipelines), local and proxied, with the same results',
  () => {
    const out = tmp('zn-bench-lazy-');
    execFileSync(
      process.execPath,
      [join(ROOT, 'bench', 'anndata', 'lazy.mjs'), '--quick', '--out', out, '--latency', '2'],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const { summary } = JSON.parse(readFileSync(join(out, 'lazy-quick.json'), 'utf8')) as {
      summary: { where: string; op: string; peer: string; check: string; hwmKiB?: number }[];
    };
    const peers = ['zarrs-node', 'anndata 0.13.4', 'anndata 0.13.4 + zarrs'];
    for (const where of ['local', 'proxy']) {
      for (const op of ['open', 'column', 'rows', 'view', 'iterate']) {
        // every peer measured (an error leaves no row) and read what zarrs-node read
        const rows = summary.filter((s) => s.where === where && s.op === op);
        expect(rows.map((r) => [r.peer, r.check])).toEqual(peers.map((p) => [p, 'same']));
      }
    }
    expect(summary.filter((s) => s.op === 'iterate').every((s) => (s.hwmKiB ?? 0) > 0)).toBe(true);
    expect(readFileSync(join(out, 'lazy-quick.md'), 'utf8')).toContain('Peak RSS of iterate');
  },
  300_000,
);
test('bench/convert.mjs --quick converts with ours, 2 parts and python anndata, checks every output and reports RSS', () => {
  const out = tmp('zn-bench-convert-');
  const argv = ['--quick', '--peers', 'ours,parts,anndata', '--data', tmp('zn-bench-convert-data-')];
  execFileSync(process.execPath, [join(ROOT, 'bench', 'convert.mjs'), ...argv, '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const json = readdirSync(out).find((f) => /^convert-quick-.*\.json$/.test(f));
  const report = JSON.parse(readFileSync(join(out, json ?? 'missing'), 'utf8')) as {
    failures: string[];
    summary: { peer: string; seconds?: number; peakRssMiB?: number; error?: string }[];
    large: { cells: number; peakRssMiB: number };
  };
  expect(report.failures).toEqual([]);
  // every input (h5ad, h5ad gzip, zarr v2) with every peer
  expect(report.summary.map((s) => s.peer)).toEqual(Array(3).fill(['ours', 'parts', 'anndata']).flat());
  for (const s of report.summary) {
    expect(s.error).toBeUndefined();
    expect(s.seconds).toBeGreaterThan(0);
    expect(s.peakRssMiB).toBeGreaterThan(0);
  }
  expect(report.large.cells).toBe(8000);
  const md = readFileSync(join(out, 'convert-quick-latest.md'), 'utf8');
  expect(md).toMatch(
    /\| zarr v2 \(unsharded\), [\d.]+ MB \| zarrs-node convert \| [\d.]+ \| [\d.]+ \| 1\.00x \| 1\.00x \| \d+ \|/,
  );
  expect(md).toMatch(/peak RSS of ours: \d+ MiB/);
  expect(md).toMatch(/4x larger input \(8000 cells/);
}, 180_000);
