// AnnDataWriter benchmark (issue 10): a synthetic CSR AnnData streamed through AnnDataWriter in
// random-sized row blocks at 1x and 4x the rows, one child process per run: wall time, rows/s and
// the child's peak RSS against the bound threads x shard size + 256 MiB, which must not grow with
// the rows. Python anndata 0.13.4 has no streaming writer: its row (the whole AnnData built in
// memory, then write_zarr with zarrs-python) is a reference, not a peer.
//
//   npm run bench:writer                              # 50k x 20k, ~1,000 nnz/row, and 4x the rows
//   node bench/anndata/writer.mjs --quick [--out DIR] # tiny, to check the harness
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// mulberry32: the same blocks in every run of one seed
import { rng } from '../../__test__/rng.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cells: { type: 'string' },
    genes: { type: 'string' },
    'nnz-per-row': { type: 'string' },
    // appended blocks have 1..2x this many rows (uniform)
    'block-rows': { type: 'string' },
    large: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    'shard-bytes': { type: 'string' },
    peers: { type: 'string', default: 'ours,python' },
    out: { type: 'string' },
    // internal: run one write in this process (the driver's child)
    child: { type: 'string' },
  },
});

const MiB = 2 ** 20;
const quick = args.quick;
const genes = Number(args.genes ?? (quick ? 2000 : 20_000));
const nnzPerRow = Number(args['nnz-per-row'] ?? (quick ? 50 : 1000));
const blockRows = Number(args['block-rows'] ?? (quick ? 50 : 1000));
const threads = Number(args.threads);
// the default policy's 64 MiB shards; --quick: 64 KiB, so that its tiny arrays are sharded too
const shardBytes = Number(args['shard-bytes'] ?? (quick ? 64 * 1024 : 64 * MiB));

const CELL_TYPES = ['T cell', 'B cell', 'NK', 'monocyte', 'DC', 'platelet', 'erythrocyte', 'HSC'];

/** One block of `n` rows from row `start`: CSR counts with sorted columns, ~nnzPerRow per row. */
function makeBlock(lib, r, start, n) {
  const { CsrMatrix, DataFrame, col } = lib;
  // column gaps uniform in 1..2g-1 (mean g) walk a row with ~nnzPerRow non-zeros
  const gap = Math.max(1, Math.round(genes / nnzPerRow));
  const indptr = new Int32Array(n + 1);
  let indices = new Int32Array(Math.ceil(n * nnzPerRow * 1.2) + genes);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = Math.floor(r() * gap); j < genes; j += 1 + Math.floor(r() * (2 * gap - 1))) {
      if (k === indices.length) {
        const grown = new Int32Array(indices.length * 2);
        grown.set(indices);
        indices = grown;
      }
      indices[k++] = j;
    }
    indptr[i + 1] = k;
  }
  // a view, not a copy: the writer copies what it keeps, so the block makes no second array
  indices = indices.subarray(0, k);
  const data = new Float32Array(k);
  for (let i = 0; i < k; i++) data[i] = 1 + Math.floor(r() * 20);
  const X = new CsrMatrix({ data, indices, indptr, shape: [n, genes] });
  const obs = new DataFrame({
    index: Array.from({ length: n }, (_, i) => `cell-${start + i}`),
    columns: [
      ['cell_type', col.string(Array.from({ length: n }, () => CELL_TYPES[Math.floor(r() * CELL_TYPES.length)]))],
      ['total_counts', col.numeric(Float64Array.from({ length: n }, (_, i) => indptr[i + 1] - indptr[i]))],
      ['score', col.numeric(Float64Array.from({ length: n }, () => r()))],
    ],
  });
  return { X, obs };
}

/** The child: stream `cells` rows into `out`; prints one JSON line (times, nnz, own peak RSS). */
async function child(spec) {
  const lib = await import(join(root, 'dist', 'anndata', 'index.js'));
  const { AnnDataWriter, DataFrame } = lib;
  const r = rng(spec.seed);
  const geneNames = Array.from({ length: genes }, (_, j) => `gene-${j}`);
  const t0 = performance.now();
  const w = await AnnDataWriter.create(spec.out, {
    var: new DataFrame({ index: geneNames }),
    obsSchema: {
      columns: [
        { name: 'cell_type', kind: 'categorical' },
        { name: 'total_counts', kind: 'numeric', dtype: 'float64' },
        { name: 'score', kind: 'numeric', dtype: 'float64' },
      ],
    },
    X: { format: 'csr', dtype: 'float32' },
    shards: { shardBytes },
    overwrite: true,
  });
  let genSeconds = 0;
  let nnz = 0;
  let blocks = 0;
  for (let start = 0; start < spec.cells; blocks++) {
    const n = Math.min(spec.cells - start, 1 + Math.floor(r() * 2 * blockRows));
    const g0 = performance.now();
    const block = makeBlock(lib, r, start, n);
    genSeconds += (performance.now() - g0) / 1000;
    nnz += block.X.data.length;
    await w.append(block);
    start += n;
  }
  await w.close();
  const seconds = (performance.now() - t0) / 1000;
  // ru_maxrss of this process, KiB on Linux
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ seconds, genSeconds, writeSeconds: seconds - genSeconds, nnz, blocks, peakRssMiB }));
}

if (args.child !== undefined) {
  await child(JSON.parse(args.child));
  process.exit(0);
}

const cells = Number(args.cells ?? (quick ? 2000 : 50_000));
const largeFactor = Number(args.large);
const wanted = new Set(args.peers.split(','));
const work = join(tmpdir(), `zn-bench-writer-${process.pid}`);
mkdirSync(work, { recursive: true });
const env = { ...process.env, ZARRS_NODE_THREADS: String(threads), RAYON_NUM_THREADS: String(threads) };
const peerPy = join(root, '.venv-anndata-0.13', 'bin', 'python');

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, e) => n + sizeOf(join(path, e)), 0);
}

/** One child to its end; its JSON line plus the wall time and the store's size. */
function run(name, cmd, argv, out) {
  const t0 = performance.now();
  const res = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 16 * MiB });
  const wall = (performance.now() - t0) / 1000;
  if (res.status !== 0)
    throw new Error(`${name} exited with ${res.status}: ${res.stderr.trim().split('\n').slice(-3)}`);
  const line = JSON.parse(res.stdout.trim().split('\n').pop());
  const bytes = sizeOf(out);
  rmSync(out, { recursive: true, force: true });
  console.log(`${name}: ${wall.toFixed(2)} s wall, ${line.peakRssMiB.toFixed(0)} MiB peak RSS`);
  return { name, wall, bytes, ...line };
}

// the machine may be shared: its load, before and after, says how far to trust the times
const loadBefore = loadavg()[0];
const sizes = [cells, ...(largeFactor > 1 ? [cells * largeFactor] : [])];
const rows = [];
for (const n of sizes) {
  if (wanted.has('ours')) {
    const out = join(work, `ours-${n}.zarr`);
    const spec = JSON.stringify({ cells: n, seed: 20261201, out });
    const self = fileURLToPath(import.meta.url);
    const argv = [self, '--child', spec, '--genes', String(genes), '--nnz-per-row', String(nnzPerRow)];
    argv.push('--block-rows', String(blockRows), '--shard-bytes', String(shardBytes));
    rows.push({ cells: n, ...run(`zarrs-node AnnDataWriter, ${n} rows`, process.execPath, argv, out) });
  }
  if (wanted.has('python') && existsSync(peerPy)) {
    const out = join(work, `python-${n}.zarr`);
    const argv = [
      join(root, 'bench', 'anndata', 'writer_peer.py'),
      out,
      '--cells',
      String(n),
      '--genes',
      String(genes),
    ];
    argv.push('--nnz-per-row', String(nnzPerRow), '--threads', String(threads));
    rows.push({ cells: n, reference: true, ...run(`python reference, ${n} rows`, peerPy, argv, out) });
  }
}
rmSync(work, { recursive: true, force: true });

const boundMiB = (threads * shardBytes) / MiB + 256;
const designMiB = (3 * shardBytes) / MiB + 256;
const f2 = (x) => x.toFixed(2);
const f0 = (x) => x.toFixed(0);
const fmtRate = (x) => `${(x / 1000).toFixed(1)}k`;
const ours = rows.filter((r) => !r.reference);
const table = rows.map((r) => {
  const peer = r.reference
    ? 'python anndata 0.13.4 + zarrs-python: whole AnnData in memory, write_zarr (reference, not streaming)'
    : 'zarrs-node AnnDataWriter (streamed blocks)';
  const gen = r.reference ? `${f2(r.genSeconds)} (build)` : f2(r.genSeconds);
  return `| ${r.cells} | ${r.nnz} | ${peer} | ${f2(r.wall)} | ${gen} | ${f2(r.writeSeconds)} | ${fmtRate(r.cells / r.writeSeconds)} | ${f0(r.peakRssMiB)} | ${(r.bytes / MiB).toFixed(0)} |`;
});
const notes = [];
if (ours.length > 0) {
  const peak = Math.max(...ours.map((r) => r.peakRssMiB));
  notes.push(
    `- peak RSS of the writer: ${f0(peak)} MiB at most; issue 10's bound ${threads} threads x ${shardBytes / MiB} MiB + 256 MiB = ${f0(boundMiB)} MiB: ${peak <= boundMiB ? 'met' : 'not met'}`,
    `- the writer's own bound: a shard buffer per array indexed by non-zeros (X data and indices: 2), one shard in the native encode, + 256 MiB = ${f0(designMiB)} MiB: ${peak <= designMiB ? 'met' : 'not met'} (row-indexed arrays buffer at most checkpointRows rows each)`,
  );
  if (ours.length > 1) {
    const [a, b] = [ours[0], ours[ours.length - 1]];
    notes.push(
      `- ${b.cells / a.cells}x the rows: peak RSS ${f0(b.peakRssMiB)} MiB against ${f0(a.peakRssMiB)} MiB (${(b.peakRssMiB / a.peakRssMiB).toFixed(2)}x); write time ${(b.writeSeconds / a.writeSeconds).toFixed(2)}x`,
    );
  }
}
const report = [
  `AnnDataWriter: ${cells} (and ${largeFactor}x) cells x ${genes} genes, CSR float32 with ~${nnzPerRow} non-zeros per row, blocks of 1-${2 * blockRows} rows (uniform), obs: string index, a categorical and 2 float64 columns; ${threads} threads, ${shardBytes / MiB} MiB shards; ${hostname()}, ${new Date().toISOString().slice(0, 10)}.`,
  `Addon: ${process.env.ZN_ADDON_NOTE ?? 'the one in dist/ (`npm run bench:writer` and `npm run bench` build the release addon first)'}. 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after (${threads} threads asked). Wall time and peak RSS (ru_maxrss, self-reported) are of the whole child process; "generate" is the time spent making the blocks (ours) or the whole in-memory AnnData (python), excluded from "write" and rows/s.`,
  '',
  '| rows | non-zeros | writer | wall (s) | generate (s) | write (s) | rows/s (write) | peak RSS (MiB) | store (MiB) |',
  '|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ...table,
  '',
  ...notes,
  '',
].join('\n');
console.log(`\n${report}`);
const outDir = args.out ?? (quick ? work : join(root, 'bench', 'results'));
if (!quick || args.out !== undefined) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'writer-latest.md'), report);
  console.log(`wrote ${join(outDir, 'writer-latest.md')}`);
}
