// The one benchmark driver runs every suite in smoke mode (tiny data, every peer) so no harness
// rots. Timings are never asserted: these machines are noisy, and bench/ reports ratios instead.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { rawBinary } from '../bench/raw-bin.mjs';
import { PYTHON, PYTHON_013, ROOT, skipWithoutPython, tmp } from './helpers.js';

// scripts/test.sh builds it before vitest starts; building it here would blow the timeout.
const RAW_BIN = rawBinary(ROOT, 'ci');
const PYTHON_PEERS = ['zarr-python', 'zarrs-python', 'tensorstore'];

interface ArrayRow {
  variant: string;
  peer: string;
  op: string;
  error?: string;
  checksumOk?: boolean;
  medianMs?: number;
}
/** A row of the one report: every suite's measurements in one shape. */
interface Row {
  suite: string;
  panel: string;
  op: string;
  peer: string;
  ms?: number;
  ratio?: number;
  ok?: boolean;
  peakRssMiB?: number;
  error?: string;
}
interface Suite {
  name: string;
  title: string;
  skipped?: string;
  error?: string;
  rows?: Row[];
  raw?: Record<string, unknown>;
}

const ARRAY_OPS = ['write', 'read_all', 'chunks_1', 'chunks_2', 'inner_1', 'inner_2', 'round_trip', 'random', 'single'];

test('bench/all.mjs --smoke runs every suite once at tiny sizes and writes one JSON, one report and one chart', () => {
  if (!RAW_BIN) {
    throw new Error(
      `the raw-zarrs peer is missing: run 'cargo build --profile ci -p zarrs-node-bench-raw' (npm test does)`,
    );
  }
  // Without the python venvs (outside CI) only the suites without python peers run.
  const withPython = !skipWithoutPython(PYTHON_013) && !skipWithoutPython(PYTHON);
  const suites = withPython ? 'arrays,anndata,lazy,convert,objstore,writer' : 'arrays,objstore,writer';
  const out = tmp('zn-bench-');
  execFileSync(process.execPath, [join(ROOT, 'bench', 'all.mjs'), '--smoke', '--suites', suites, '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const report = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8')) as {
    rows: Row[];
    suites: Suite[];
    targets: { suite: string; target: string; measured: string; met: boolean }[];
  };
  const suite = (name: string) => report.suites.find((s) => s.name === name) as Suite;
  expect(report.suites.map((s) => s.name)).toEqual(suites.split(','));
  for (const s of report.suites) expect(s.error, s.name).toBeUndefined();
  const rowsOf = (name: string) => report.rows.filter((r) => r.suite === name);
  // every row of every suite is a measurement, or an error the suite names
  for (const r of report.rows) {
    if (!r.error) expect(r.ms, `${r.suite} ${r.panel} ${r.op} ${r.peer}`).toBeGreaterThan(0);
    expect(r.ok, `${r.suite} ${r.panel} ${r.op} ${r.peer}`).not.toBe(false);
  }

  // arrays: every peer; ours and raw zarrs on every variant, the others on the sharded one; checksums
  const arrays = suite('arrays').raw as {
    rows: ArrayRow[];
    whole: ArrayRow[];
    limits: { zstd?: { decodeN: number } };
    meta: { skipped: { peer: string }[] };
  };
  const peers = ['zarrs-node', 'raw-zarrs', 'zarrita', ...(withPython ? PYTHON_PEERS : [])];
  expect(new Set(arrays.rows.map((r) => r.peer))).toEqual(new Set(peers));
  if (!withPython) expect(arrays.meta.skipped.map((s) => s.peer)).toEqual(PYTHON_PEERS);
  const variants = ['uncompressed', 'zstd0', 'sharded', 'sharded32', 'blosc'];
  for (const peer of ['zarrs-node', 'raw-zarrs'])
    expect(new Set(arrays.rows.filter((r) => r.peer === peer).map((r) => r.variant))).toEqual(new Set(variants));
  for (const peer of ['zarrita', ...(withPython ? PYTHON_PEERS : [])])
    expect(new Set(arrays.rows.filter((r) => r.peer === peer).map((r) => r.variant))).toEqual(new Set(['sharded']));
  // Every measured operation read (or wrote) the generated values; only zarrita's sharded
  // writes may be missing, as zarrita cannot write sharded arrays.
  for (const r of arrays.rows) {
    if (r.error) expect(`${r.peer} ${r.variant} ${r.op}: ${r.error}`).toMatch(/^zarrita sharded (write|round_trip)/);
    else expect(r.checksumOk, `${r.peer} ${r.variant} ${r.op}`).toBe(true);
  }
  for (const peer of [...peers]) {
    const ops = arrays.rows.filter((r) => r.peer === peer && r.variant === 'sharded').map((r) => r.op);
    expect(ops, peer).toEqual(ARRAY_OPS);
  }
  expect(arrays.whole.filter((w) => !w.error).map((w) => w.peer)).toEqual(peers);
  expect(arrays.limits.zstd?.decodeN).toBeGreaterThan(0);
  expect(
    rowsOf('arrays')
      .filter((r) => r.panel === 'sharded' && r.op === 'read_all')
      .map((r) => r.peer),
  ).toEqual([
    'zarrs-node',
    'raw zarrs (Rust)',
    'zarrita.js',
    ...(withPython ? ['zarr-python', 'zarr-python + zarrs-python', 'tensorstore'] : []),
  ]);
  expect(report.targets.filter((t) => t.suite === 'arrays').map((t) => t.target)).toContain(
    'full read >= 5x zarrita.js (whole process)',
  );

  // objstore: each peer through the latency proxy, both reads
  const obj = rowsOf('objstore').map((r) => `${r.op} / ${r.peer}`);
  expect(obj).toEqual(
    ['scattered rows', 'whole array'].flatMap((op) =>
      ['zarrs-node', 'zarrs-node (coalesce: false)', 'zarrita.js FetchStore'].map((p) => `${op} / ${p}`),
    ),
  );

  // writer: ours at 1x and 4x the rows (the python reference is for full runs), peak RSS bounds
  const writer = rowsOf('writer');
  expect(writer.map((r) => r.peer)).toEqual(['zarrs-node AnnDataWriter', 'zarrs-node AnnDataWriter']);
  expect(writer.every((r) => (r.peakRssMiB ?? 0) > 0)).toBe(true);
  expect(report.targets.filter((t) => t.suite === 'writer').map((t) => t.target.split(' = ')[0])).toEqual([
    'peak RSS <= threads x shard + 256 MiB',
    "peak RSS <= the writer's own bound (a shard per non-zero-indexed array + encode + 256 MiB)",
  ]);

  if (withPython) {
    // anndata: ours and python anndata, write and full read, and each reading the other's store
    expect(rowsOf('anndata').map((r) => `${r.op} / ${r.peer.replace(/\d+$/, 'N')}`)).toEqual([
      'write / zarrs-node',
      'full read / zarrs-node',
      'write / anndata 0.12.N',
      'full read / anndata 0.12.N',
    ]);
    // lazy: every operation through the latency proxy read what zarrs-node read (ok: the same values)
    const lazy = rowsOf('lazy');
    for (const op of ['open', 'column', 'rows', 'view', 'iterate'])
      expect(lazy.filter((r) => r.panel === 'proxy' && r.op === op).map((r) => [r.peer, r.ok])).toEqual([
        ['zarrs-node', true],
        ['anndata 0.13.4 + zarrs', true],
      ]);
    // every lazy operation has its speed-up target against the python peer, open included
    const lazyTargets = report.targets.filter((t) => t.suite === 'lazy').map((t) => t.target);
    for (const op of ['open', 'column', 'rows', 'view', 'iterate'])
      expect(
        lazyTargets.some((t) => t.startsWith(`proxy ${op}`)),
        op,
      ).toBe(true);
    expect(lazy.filter((r) => r.op === 'iterate').every((r) => (r.peakRssMiB ?? 0) > 0)).toBe(true);
    // convert: every input with every peer, each output checked, and the 4x input's peak RSS
    const convert = suite('convert').raw as { failures: string[]; large: { cells: number; peakRssMiB: number } };
    expect(convert.failures).toEqual([]);
    expect(rowsOf('convert').map((r) => r.peer)).toEqual(
      Array(2).fill(['zarrs-node convert', 'zarrs-node convert, 2 parts', 'anndata + zarrs write_zarr']).flat(),
    );
    expect(rowsOf('convert').every((r) => (r.peakRssMiB ?? 0) > 0)).toBe(true);
    expect(convert.large.cells).toBe(8000);
    expect(report.targets.map((t) => t.suite)).toEqual(expect.arrayContaining(['anndata', 'lazy', 'convert']));
  }

  // the one report: a section per suite, every target, the chart with a panel per suite
  const md = readFileSync(join(out, 'smoke.md'), 'utf8');
  for (const s of report.suites) expect(md).toContain(`## ${s.title}`);
  expect(md).toMatch(/\| suite \| target \| measured \| met \|/);
  // every suite but arrays (whose own tables have this shape) gets the common table of its rows
  expect(md).toContain('| where | operation | zarrs-node | zarrs-node (coalesce: false) | zarrita.js FetchStore |');
  expect(md).toContain('| operation | zarrs-node | raw zarrs (Rust) | zarrita.js |');
  expect(md).toMatch(/decode [\d.]+ GB\/s on one core/);
  if (withPython) expect(md).toContain('reads the zarrs-node store');
  const svg = readFileSync(join(out, 'smoke.svg'), 'utf8');
  expect(svg).toMatch(/^<svg [^>]*>[\s\S]*<rect [\s\S]*<\/svg>\n$/);
  expect(svg).toContain('arrays, sharded: in process');
  expect(svg).toContain('object store via');
  if (withPython)
    for (const t of ['AnnData: write', 'lazy reads, proxy', 'conversion to sharded v3']) expect(svg).toContain(t);
}, 600_000);

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
