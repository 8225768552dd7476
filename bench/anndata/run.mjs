// AnnData benchmark: zarrs-node vs python anndata (with and without the zarrs-python pipeline)
// on the dataset of ../shared/docs/benchmarks.md, one run, interleaved rounds, as ratios.
//
//   npm run bench:anndata                      # full: 100k x 20k CSR (~100M nnz), 3 rounds
//   node bench/anndata/run.mjs --smoke --out D # tiny; run by the test suite so it never rots
//
// Every peer runs each operation in a fresh process with 2 threads (ZARRS_NODE_THREADS,
// RAYON_NUM_THREADS, zarr's threading.max_workers). Python peers come from the pinned .venv
// (anndata 0.12) and .venv-anndata-0.13 (anndata 0.13.4); absent ones are skipped with a reason.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    data: { type: 'string' },
  },
});
const smoke = args.smoke;
const rounds = smoke ? 1 : Number(args.rounds);
const threads = args.threads;
const env = { ...process.env, ZARRS_NODE_THREADS: threads, RAYON_NUM_THREADS: threads };
const dataDir =
  args.data ?? (smoke ? join(tmpdir(), `zn-bench-anndata-${process.pid}`) : join(root, 'bench', '.data', 'anndata'));
mkdirSync(dataDir, { recursive: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(cmd, argv) {
  return execFileSync(cmd, argv, { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20 });
}

/** Python interpreters with anndata, and whether zarrs-python is importable in each. */
function pythons() {
  const found = [];
  // .venv: anndata 0.12 (+ zarrs-python); .venv-anndata-0.13 (setup-python.sh): anndata 0.13.4
  // (+ zarrs-python): each runs with and without zarrs.
  for (const venv of ['.venv', '.venv-anndata-0.13']) {
    // smoke runs one python peer: probing (importing anndata) the others costs seconds each
    if (smoke && found.length) break;
    const py = join(root, venv, 'bin', 'python');
    if (!existsSync(py)) {
      console.log(`skip ${venv}: not installed`);
      continue;
    }
    try {
      const info = JSON.parse(
        run(py, [
          '-c',
          'import json, anndata\ntry:\n import zarrs; z = True\nexcept Exception: z = False\nprint(json.dumps({"v": anndata.__version__, "zarrs": z}))',
        ]),
      );
      found.push({ py, version: info.v, zarrs: info.zarrs, autoZarrs: info.zarrs && !info.v.startsWith('0.12') });
    } catch (e) {
      console.log(`skip ${venv}: anndata not importable (${String(e).split('\n')[0]})`);
    }
  }
  return found;
}

const pys = pythons();
if (pys.length === 0) throw new Error('no python with anndata: run bash scripts/setup-python.sh');
const source = join(dataDir, smoke ? 'source-smoke.zarr' : 'source.zarr');
if (!existsSync(join(source, '.zgroup'))) {
  const size = smoke ? ['--cells', '2000', '--genes', '500'] : [];
  console.log(`generating ${source} ...`);
  console.log(run(pys[0].py, [join(root, 'bench', 'anndata', 'gen.py'), source, ...size]).trim());
}

const ours = join(root, 'bench', 'anndata', 'peer.mjs');
const peers = [{ name: 'zarrs-node', cmd: process.execPath, script: ours, flags: [] }];
// the same codec as python anndata (plain zstd), to separate layout/engine from codec choice
if (!smoke) peers.push({ name: 'zarrs-node (plain zstd)', cmd: process.execPath, script: ours, flags: ['--zstd'] });
for (const p of smoke ? pys.slice(0, 1) : pys) {
  const script = join(root, 'bench', 'anndata', 'peer.py');
  // with zarrs importable, anndata >= 0.13 uses it unless told otherwise (peer.py --no-zarrs)
  peers.push({ name: `anndata ${p.version}`, cmd: p.py, script, flags: p.autoZarrs ? ['--no-zarrs'] : [] });
  if (p.zarrs && !smoke) peers.push({ name: `anndata ${p.version} + zarrs`, cmd: p.py, script, flags: ['--zarrs'] });
}

const results = Object.fromEntries(peers.map((p) => [p.name, { write: [], read: [], writeRss: [], readRss: [] }]));
const outOf = (p) => join(dataDir, `out-${p.name.replace(/[^\w.-]+/g, '_')}.zarr`);
for (let r = 0; r < rounds; r++) {
  for (const p of peers) {
    const out = outOf(p);
    rmSync(out, { recursive: true, force: true });
    const w = JSON.parse(run(p.cmd, [p.script, 'write', source, out, ...p.flags]));
    const rd = JSON.parse(run(p.cmd, [p.script, 'read', out, ...p.flags]));
    results[p.name].write.push(w.ms);
    results[p.name].writeRss.push(w.peakRss);
    results[p.name].read.push(rd.ms);
    results[p.name].readRss.push(rd.peakRss);
    console.log(`round ${r + 1} ${p.name}: write ${w.ms.toFixed(0)} ms, read ${rd.ms.toFixed(0)} ms`);
  }
}
// Cross-reads: zarrs-node reading each python store and the python peers reading ours.
const cross = [];
const base0 = peers[0];
for (const p of peers.filter((x) => x.cmd !== process.execPath)) {
  const a = JSON.parse(run(base0.cmd, [base0.script, 'read', outOf(p)]));
  const b = JSON.parse(run(p.cmd, [p.script, 'read', outOf(base0), ...p.flags]));
  cross.push({ reader: 'zarrs-node', store: p.name, ms: a.ms }, { reader: p.name, store: 'zarrs-node', ms: b.ms });
}

const summary = peers.map((p) => {
  const x = results[p.name];
  return {
    peer: p.name,
    writeMs: median(x.write),
    readMs: median(x.read),
    writePeakRssMiB: Math.max(...x.writeRss) / 2 ** 20,
    readPeakRssMiB: Math.max(...x.readRss) / 2 ** 20,
  };
});
const base = summary[0];
const fmt = (v) => v.toFixed(0);
const lines = [
  `| peer | write (ms) | read (ms) | write: peer / zarrs-node | read: peer / zarrs-node | peak RSS write / read (MiB) |`,
  '|---|---:|---:|---:|---:|---:|',
  ...summary.map(
    (s) =>
      `| ${s.peer} | ${fmt(s.writeMs)} | ${fmt(s.readMs)} | ${(s.writeMs / base.writeMs).toFixed(2)}x | ${(s.readMs / base.readMs).toFixed(2)}x | ${fmt(s.writePeakRssMiB)} / ${fmt(s.readPeakRssMiB)} |`,
  ),
  '',
  "Cross-reads (each reader on the other's store): ",
  ...cross.map((c) => `- ${c.reader} reads the ${c.store} store: ${fmt(c.ms)} ms`),
];
const md = [
  `AnnData ${smoke ? '(smoke) ' : ''}write (v3 defaults of each peer) and full read; median of ${rounds} round(s), ${threads} threads, ${hostname()}.`,
  '',
  ...lines,
  '',
].join('\n');
console.log(`\n${md}`);
const outDir = args.out ?? join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const date = new Date().toISOString().slice(0, 10);
writeFileSync(
  join(outDir, `anndata-${date}-${hostname()}.json`),
  JSON.stringify({ smoke, rounds, threads, source, results, summary, cross }, null, 2),
);
writeFileSync(join(outDir, 'anndata-latest.md'), md);
if (smoke) rmSync(dataDir, { recursive: true, force: true });
