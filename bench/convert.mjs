// Conversion benchmark (issue 10): `zarrs-node convert` against python anndata 0.13 + zarrs-python
// on the AnnData of ../shared/docs/benchmarks.md, from h5ad (none, gzip) and zarr v2 to sharded v3,
// one run, every peer a child process measured for wall time and peak RSS, reported as ratios.
//
//   npm run bench:convert                          # full: 100k x 20k CSR (~100M nnz), + a 4x input
//   node bench/convert.mjs --quick [--out DIR]     # tiny; the test suite runs this
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cells: { type: 'string' },
    genes: { type: 'string' },
    density: { type: 'string', default: '0.05' },
    // the input of the memory check has `large` times the cells (0: no memory check)
    large: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    // the default policy's 64MiB shards of 1MiB chunks; --quick: 64KiB of 16KiB, so that its tiny
    // arrays are sharded too
    'shard-size': { type: 'string' },
    'chunk-size': { type: 'string' },
    rounds: { type: 'string', default: '1' },
    peers: { type: 'string', default: 'ours,parts,anndata,recipe' },
    inputs: { type: 'string', default: 'h5ad,gzip,zarr' },
    data: { type: 'string' },
    out: { type: 'string' },
  },
});

const cli = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'node scripts/build.mjs' first`);
const { parseSize } = await import(join(root, 'dist', 'cli', 'convert.js'));

const quick = args.quick;
const cells = Number(args.cells ?? (quick ? 2000 : 100_000));
const genes = Number(args.genes ?? (quick ? 500 : 20_000));
const density = Number(args.density);
const largeFactor = Number(args.large);
const threads = Number(args.threads);
const shardSize = args['shard-size'] ?? (quick ? '64KiB' : '64MiB');
const chunkSize = args['chunk-size'] ?? (quick ? '16KiB' : 'auto');
const shardBytes = parseSize(shardSize, '--shard-size');
const rounds = Number(args.rounds);
const wanted = new Set(args.peers.split(','));
const MiB = 2 ** 20;
// The memory target of issue 10: shards in flight (one per thread) plus a constant.
const rssTargetMiB = (t) => (t * shardBytes) / MiB + 256;
const partThreads = Math.max(1, Math.floor(threads / 2));

const genPy = join(root, '.venv', 'bin', 'python');
if (!existsSync(genPy)) throw new Error(`${genPy} is missing: run bash scripts/setup-python.sh`);
const peerPy = join(root, '.venv-anndata-0.13', 'bin', 'python');
const peerScript = join(root, 'bench', 'convert_peer.py');
const cacheRoot = args.data ?? join(tmpdir(), 'zn-bench-convert');
const work = join(tmpdir(), `zn-bench-convert-out-${process.pid}`);
mkdirSync(work, { recursive: true });

const INPUTS = [
  { id: 'h5ad', name: 'h5ad (uncompressed)', file: 'input.h5ad' },
  { id: 'gzip', name: 'h5ad (gzip)', file: 'input.gzip.h5ad' },
  { id: 'zarr', name: 'zarr v2 (unsharded)', file: 'input.zarr' },
].filter((i) => args.inputs.split(',').includes(i.id));
if (INPUTS.length === 0) throw new Error(`--inputs '${args.inputs}': expected some of h5ad,gzip,zarr`);

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, e) => n + sizeOf(join(path, e)), 0);
}

/** Run one child to its end: wall time, peak RSS (KiB -> MiB) and stdout; throws on failure. */
async function measure(cmd, argv, childThreads = threads) {
  const env = { ...process.env, ZARRS_NODE_THREADS: String(childThreads), RAYON_NUM_THREADS: String(childThreads) };
  const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
  // GNU time reports the child's maximum resident set; without it, poll the kernel's high-water mark.
  const timed = existsSync('/usr/bin/time');
  const [exe, exeArgs] = timed ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...argv]] : [cmd, argv];
  const started = performance.now();
  const child = spawn(exe, exeArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => {
    stdout += b;
  });
  child.stderr.on('data', (b) => {
    stderr += b;
  });
  let hwmKiB = 0;
  const poll = timed
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwmKiB = Math.max(hwmKiB, Number(m[1]));
        } catch {
          // the child has just exited
        }
      }, 20);
  const code = await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  if (poll) clearInterval(poll);
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-3).join(' | ') || stdout.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${[cmd, ...argv].join(' ')} exited with ${code}: ${tail}`);
  }
  const peakKiB = timed ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : hwmKiB;
  rmSync(rssFile, { force: true });
  return { seconds, peakRssMiB: peakKiB / 1024, stdout };
}

/** The cached inputs of one size (made once with python anndata from .venv). */
async function inputsOf(nCells, files) {
  const dir = join(cacheRoot, `${nCells}x${genes}-d${density}`);
  const paths = files.map((f) => join(dir, f));
  if (!existsSync(join(dir, '.complete')) || !paths.every(existsSync)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    console.log(`generating ${files.join(', ')} (${nCells} x ${genes}, density ${density}) in ${dir} ...`);
    const gen = [
      join(root, 'bench', 'anndata', 'gen.py'),
      ...paths,
      '--cells',
      String(nCells),
      '--genes',
      String(genes),
    ];
    const r = await measure(genPy, [...gen, '--density', String(density)]);
    console.log(r.stdout.trim());
    writeFileSync(join(dir, '.complete'), '');
  }
  return paths;
}

/** What every output must hold (the input's X non-zeros and obs count), read by python zarr. */
async function check(store) {
  return JSON.parse((await measure(genPy, [peerScript, 'check', store])).stdout);
}

const ours = (input, output, extra = [], t = threads) =>
  measure(
    process.execPath,
    [
      cli,
      'convert',
      input,
      output,
      '--json',
      '--threads',
      String(t),
      '--shard-size',
      shardSize,
      '--chunk-size',
      chunkSize,
      ...extra,
    ],
    t,
  );

const PEERS = [
  {
    id: 'ours',
    name: 'zarrs-node convert',
    async run(input, output) {
      const r = await ours(input, output);
      const report = JSON.parse(r.stdout);
      return { seconds: r.seconds, inProcessSeconds: report.seconds, peakRssMiB: r.peakRssMiB, bytes: report.bytes };
    },
  },
  {
    id: 'parts',
    name: `zarrs-node convert, 2 parts at once (${partThreads} thread(s) each) + finalize`,
    async run(input, output) {
      const started = performance.now();
      // both parts run to their end before a failure is reported (the output is then removed)
      const settled = await Promise.allSettled(
        ['1/2', '2/2'].map((p) => ours(input, output, ['--part', p], partThreads)),
      );
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const parts = settled.map((s) => s.value);
      const partsSeconds = (performance.now() - started) / 1000;
      const fin = await measure(process.execPath, [cli, 'finalize', output, '--json']);
      const reports = parts.map((p) => JSON.parse(p.stdout));
      return {
        seconds: partsSeconds + fin.seconds,
        partsSeconds,
        finalizeSeconds: fin.seconds,
        peakRssMiB: Math.max(...parts.map((p) => p.peakRssMiB)),
        sumPeakRssMiB: parts.reduce((n, p) => n + p.peakRssMiB, 0),
        bytes: reports.reduce((n, r) => n + r.bytes, 0),
      };
    },
  },
  ...['anndata', 'recipe'].map((id) => ({
    id,
    name:
      id === 'anndata'
        ? 'python anndata + zarrs: read_h5ad/read_zarr + write_zarr'
        : "python anndata + zarrs: the guide's sharded write_dispatched recipe",
    python: true,
    async run(input, output) {
      const mode = id === 'anndata' ? 'defaults' : 'recipe';
      const r = await measure(peerPy, [peerScript, mode, input, output, '--threads', String(threads)]);
      const o = JSON.parse(r.stdout);
      return { seconds: r.seconds, inProcessSeconds: o.seconds, peakRssMiB: r.peakRssMiB, versions: o };
    },
  })),
].filter((p) => wanted.has(p.id));

if (!existsSync(peerPy)) {
  for (const p of PEERS.filter((x) => x.python)) console.log(`skip ${p.name}: ${peerPy} is missing`);
}
const peers = PEERS.filter((p) => !p.python || existsSync(peerPy));

const paths = await inputsOf(
  cells,
  INPUTS.map((i) => i.file),
);
const inputs = INPUTS.map((i, k) => ({ ...i, path: paths[k], bytes: sizeOf(paths[k]) }));
const expected = await check(inputs[0].path);
const failures = [];

/** One conversion: run, then check what it wrote; an error is kept in the report, not thrown. */
async function convertOnce(peer, input) {
  const output = join(work, `${peer.id}.zarr`);
  rmSync(output, { recursive: true, force: true });
  try {
    const r = await peer.run(input.path, output);
    const got = await check(output);
    if (got.nnz !== expected.nnz || got.nObs !== expected.nObs || !got.sharded) {
      throw new Error(`wrote ${JSON.stringify(got)}, expected ${JSON.stringify({ ...expected, sharded: true })}`);
    }
    return r;
  } catch (e) {
    const error = String(e.message ?? e);
    failures.push(`${peer.name} on ${input.name}: ${error}`);
    return { error };
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

const runs = [];
for (let r = 0; r < rounds; r++) {
  for (const input of inputs) {
    for (const peer of peers) {
      const res = await convertOnce(peer, input);
      runs.push({ round: r + 1, input: input.name, peer: peer.id, ...res });
      const what = res.error
        ? `error: ${res.error}`
        : `${res.seconds.toFixed(2)} s, ${res.peakRssMiB.toFixed(0)} MiB peak RSS`;
      console.log(`round ${r + 1} ${input.name} / ${peer.name}: ${what}`);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = inputs.flatMap((input) =>
  peers.map((peer) => {
    const ok = runs.filter((x) => x.input === input.name && x.peer === peer.id && !x.error);
    const err = runs.find((x) => x.input === input.name && x.peer === peer.id && x.error);
    if (ok.length === 0) return { input: input.name, peer: peer.id, error: err?.error ?? 'not run' };
    const inProcess = ok.map((x) => x.inProcessSeconds).filter((v) => v !== undefined);
    return {
      input: input.name,
      peer: peer.id,
      seconds: median(ok.map((x) => x.seconds)),
      inProcessSeconds: inProcess.length ? median(inProcess) : null,
      peakRssMiB: Math.max(...ok.map((x) => x.peakRssMiB)),
      sumPeakRssMiB: ok[0].sumPeakRssMiB ?? null,
    };
  }),
);
const row = (input, id) => summary.find((s) => s.input === input && s.peer === id);

// The memory check: ours on an input with `largeFactor` times the cells (the first input's format).
let large = null;
if (largeFactor > 0 && peers.some((p) => p.id === 'ours')) {
  const [path] = await inputsOf(cells * largeFactor, [inputs[0].file]);
  const output = join(work, 'large.zarr');
  rmSync(output, { recursive: true, force: true });
  try {
    const r = await ours(path, output);
    large = { cells: cells * largeFactor, bytes: sizeOf(path), seconds: r.seconds, peakRssMiB: r.peakRssMiB };
  } catch (e) {
    failures.push(`zarrs-node convert on the ${largeFactor}x input: ${e.message}`);
    large = { cells: cells * largeFactor, error: String(e.message) };
  }
  rmSync(output, { recursive: true, force: true });
  console.log(
    `${largeFactor}x input: ${large.error ?? `${large.seconds.toFixed(2)} s, ${large.peakRssMiB.toFixed(0)} MiB`}`,
  );
}

const f2 = (v) => (v === null || v === undefined ? '-' : v.toFixed(2));
const f0 = (v) => (v === null || v === undefined ? '-' : v.toFixed(0));
const mb = (b) => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;
const nameOf = (id) => peers.find((p) => p.id === id).name;
const table = [
  '| input | peer | wall (s) | in-process (s) | wall: peer / ours | in-process: peer / ours | peak RSS (MiB) |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...summary.map((s) => {
    const base = row(s.input, 'ours');
    const input = inputs.find((i) => i.name === s.input);
    const label = `${s.input}, ${mb(input.bytes)}`;
    if (s.error) return `| ${label} | ${nameOf(s.peer)} | error: ${s.error.replaceAll('|', '/')} | | | | |`;
    const ok = base && !base.error;
    const wall = ok ? `${(s.seconds / base.seconds).toFixed(2)}x` : '-';
    const inProcess =
      ok && s.inProcessSeconds !== null ? `${(s.inProcessSeconds / base.inProcessSeconds).toFixed(2)}x` : '-';
    const rss = s.sumPeakRssMiB ? `${f0(s.peakRssMiB)} each, ${f0(s.sumPeakRssMiB)} together` : f0(s.peakRssMiB);
    return `| ${label} | ${nameOf(s.peer)} | ${f2(s.seconds)} | ${f2(s.inProcessSeconds)} | ${wall} | ${inProcess} | ${rss} |`;
  }),
];

// Where we stand against issue 10's targets.
const targets = [];
const pythonIds = peers.filter((p) => p.python).map((p) => p.id);
for (const input of inputs) {
  const base = row(input.name, 'ours');
  const py = pythonIds.map((id) => row(input.name, id)).filter((s) => s && !s.error);
  if (!base || base.error || py.length === 0) continue;
  const worst = Math.min(...py.map((s) => s.seconds / base.seconds));
  const worstInProcess = Math.min(...py.map((s) => s.inProcessSeconds / base.inProcessSeconds));
  targets.push(
    `- ${input.name}: python / ours >= ${worst.toFixed(2)}x wall, ${worstInProcess.toFixed(2)}x in-process (target >= 3x: ${worst >= 3 ? 'met' : 'not met'})`,
  );
}
const oursRows = summary.filter((s) => s.peer === 'ours' && !s.error);
if (oursRows.length) {
  const peak = Math.max(...oursRows.map((s) => s.peakRssMiB));
  const target = rssTargetMiB(threads);
  targets.push(
    `- peak RSS of ours: ${f0(peak)} MiB at most over the inputs; target ${threads} threads x ${shardSize} + 256 MiB = ${f0(target)} MiB: ${peak <= target ? 'met' : 'not met'}`,
  );
}
const partRows = summary.filter((s) => s.peer === 'parts' && !s.error);
if (partRows.length) {
  const peak = Math.max(...partRows.map((s) => s.peakRssMiB));
  const target = rssTargetMiB(partThreads);
  targets.push(
    `- peak RSS of one part: ${f0(peak)} MiB at most; target ${partThreads} thread(s) x ${shardSize} + 256 MiB = ${f0(target)} MiB: ${peak <= target ? 'met' : 'not met'}`,
  );
  for (const s of partRows) {
    const base = row(s.input, 'ours');
    if (base && !base.error)
      targets.push(`- ${s.input}: 2 parts / 1 run = ${(s.seconds / base.seconds).toFixed(2)}x wall`);
  }
}
if (large && !large.error) {
  const small = row(inputs[0].name, 'ours');
  const grew =
    small && !small.error
      ? ` (${(large.peakRssMiB / small.peakRssMiB).toFixed(2)}x the ${f0(small.peakRssMiB)} MiB of the 1x input)`
      : '';
  const target = rssTargetMiB(threads);
  targets.push(
    `- ${largeFactor}x larger input (${large.cells} cells, ${inputs[0].name}, ${mb(large.bytes)}): ours ${f2(large.seconds)} s, peak RSS ${f0(large.peakRssMiB)} MiB${grew}; target ${f0(target)} MiB: ${large.peakRssMiB <= target ? 'met' : 'not met'}`,
  );
}

const versions = runs.find((x) => x.versions)?.versions;
const md = [
  `Conversion to sharded zarr v3${quick ? ' (quick)' : ''}: ${cells} cells x ${genes} genes, CSR density ${density} (${expected.nnz} non-zeros), ` +
    `${threads} threads, shard size ${shardSize} for ours; median of ${rounds} round(s), ${hostname()}, ${new Date().toISOString().slice(0, 10)}.`,
  `Wall time and peak RSS are of the whole child process (start-up included); in-process is what the peer reports itself.` +
    (versions ? ` Python: anndata ${versions.anndata}, zarr ${versions.zarr}, zarrs-python ${versions.zarrs}.` : ''),
  '',
  ...table,
  '',
  ...targets,
  ...(failures.length ? ['', 'Failures:', ...failures.map((f) => `- ${f}`)] : []),
  '',
].join('\n');
console.log(`\n${md}`);

const outDir = args.out ?? join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const stem = quick ? 'convert-quick' : 'convert';
writeFileSync(
  join(outDir, `${stem}-${new Date().toISOString().slice(0, 10)}-${hostname()}.json`),
  JSON.stringify(
    {
      quick,
      cells,
      genes,
      density,
      threads,
      shardSize,
      shardBytes,
      rounds,
      inputs,
      expected,
      runs,
      summary,
      large,
      failures,
    },
    null,
    2,
  ),
);
writeFileSync(join(outDir, `${stem}-latest.md`), md);
rmSync(work, { recursive: true, force: true });
if (failures.length) process.exitCode = 1;
