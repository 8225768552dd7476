// The benchmark driver: every peer (zarrs-node, raw zarrs, zarrita.js, zarr-python, zarr-python +
// zarrs-python, tensorstore) on the same data, one run, each in its own process with the same
// thread budget, checksums compared, the physical limit measured beside. See bench/README.md.
//
//   npm run bench                                  # release builds, then 512^3 uint16 (256 MiB)
//   node --expose-gc bench/run.mjs --smoke --out D # tiny sizes; peers but ours and raw: sharded only
//   node --expose-gc bench/run.mjs --peers zarrs-node,tensorstore --ops read_all --variants sharded
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emptyCopy, expected, loadInput, prepare, randomOrigins } from './data.mjs';
import { measureLimits } from './limits.mjs';
import { PEERS } from './peers.mjs';
import { rawBinary } from './raw-bin.mjs';
import { writeReport } from './report.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL_OPS = ['write', 'read_all', 'chunks_1', 'chunks_2', 'inner_1', 'inner_2', 'round_trip', 'random', 'single'];
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    side: { type: 'string' },
    repeats: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    peers: { type: 'string' },
    ops: { type: 'string' },
    variants: { type: 'string' },
    random: { type: 'string', default: '200' },
    points: { type: 'string', default: '1000' },
    // Operations and variants also timed as whole processes.
    whole: { type: 'string' },
    'whole-variants': { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
  },
});
const list = (s, all) => (s ? s.split(',').filter(Boolean) : all);
const smoke = args.smoke;
const side = Number(args.side ?? (smoke ? 64 : 512));
// Protocol layout scaled with the size: chunks (inner chunks when sharded) 64^3, shards 256^3,
// the stress variant's inner chunks 32^3, random boxes 64^3; smoke divides all by 4.
const g = smoke
  ? { side, chunk: 16, shard: 32, small: 8, block: 16 }
  : { side, chunk: 64, shard: 256, small: 32, block: 64 };
const threads = Number(args.threads);
const repeats = smoke ? 2 : Number(args.repeats);
const nRandom = smoke ? 10 : Number(args.random);
const nPoints = smoke ? 20 : Number(args.points);
const dataDir = args.data ?? (smoke ? join(tmpdir(), `zn-bench-smoke-${process.pid}`) : join(root, 'bench', '.data'));
const profile = smoke ? 'ci' : 'release';
const env = {
  ...process.env,
  ZARRS_NODE_THREADS: String(threads),
  RAYON_NUM_THREADS: String(threads),
  UV_THREADPOOL_SIZE: String(threads),
};
process.env.ZARRS_NODE_THREADS = String(threads);
const zn = await import(join(root, 'dist', 'index.js'));

const { input, stores } = await prepare(zn, dataDir, g);
const data = loadInput(input);
const random = randomOrigins(side, g.block, nRandom, 1);
const points = randomOrigins(side, 1, nPoints, 2);
const truth = expected(data, side, random, g.block, points);
const expectedSum = (op) => (op === 'random' ? truth.random : op === 'single' ? truth.single : truth.total);

const variantNames = list(args.variants, Object.keys(stores));
const ops = list(args.ops, ALL_OPS);
const peers = PEERS.filter((p) =>
  list(
    args.peers,
    PEERS.map((q) => q.name),
  ).includes(p.name),
);
const available = [];
const skipped = [];
for (const p of peers) {
  const why = p.unavailable({ root, profile, env });
  if (why) {
    skipped.push({ peer: p.name, reason: why });
    console.log(`skipping ${p.name}: ${why}`);
  } else available.push(p);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = join(dataDir, 'out');

/** Sum of the values a peer wrote, read back with zarrs-node: the check for the write operations. */
async function storedSum(path) {
  const { data } = await (await zn.openArray(path)).get();
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i];
  return String(s);
}

/** Run one peer process on one spec; returns its parsed JSON and wall time. */
function runPeer(peer, spec, tag) {
  const specPath = join(work, `${peer.name}-${tag}.json`);
  writeFileSync(specPath, JSON.stringify(spec));
  const [cmd, argv] = peer.command({ root, profile, specPath });
  const t = performance.now();
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    const err = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    return { error: `exit ${r.status}: ${err}`, ms };
  }
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)), ms };
}

function specFor(variant, peer, opsToRun, once) {
  const store = stores[variant];
  const meta = JSON.parse(readFileSync(join(store, 'zarr.json'), 'utf8'));
  // "chunk" is the stored object (the shard when sharded); "inner chunk" the unit inside a shard.
  const chunk = meta.chunk_grid.configuration.chunk_shape;
  const inner = meta.codecs.find((c) => c.name === 'sharding_indexed')?.configuration.chunk_shape ?? null;
  const dir = join(work, peer.name);
  return {
    store,
    writeTarget: emptyCopy(store, join(dir, `${variant}-write.zarr`)),
    roundTripTarget: emptyCopy(store, join(dir, `${variant}-rt.zarr`)),
    input,
    shape: [side, side, side],
    chunk,
    inner,
    block: g.block,
    random,
    points,
    threads,
    repeats,
    once,
    ops: opsToRun.filter((op) => inner || !op.startsWith('inner')),
  };
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// The limit first: it is what the machine allows before the peers heat it up.
const chunkBytes = 2 * g.chunk ** 3;
console.log('measuring the physical limit (zstd -b, page cache)');
const limits = await measureLimits({
  stores,
  chunkBytes,
  cores: threads,
  dataDir,
  side,
  seconds: smoke ? 1 : 3,
  rawBin: rawBinary(root, profile),
  chunk: g.chunk,
});
const outDir = args.out ?? join(root, 'bench', 'results');
const rows = [];
const whole = [];
const versions = {};
/** (Re)write the report with what is measured so far, so a long run that is cut short still reports. */
function report() {
  const meta = {
    date: new Date().toISOString(),
    host: hostname(),
    cpu: `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`,
    // Other jobs on a shared machine move absolute times; the report says how busy it was.
    loadavg: loadavg(),
    node: process.version,
    threads,
    repeats,
    smoke,
    side,
    bytes: 2 * side ** 3,
    layout: g,
    random: nRandom,
    points: nPoints,
    versions,
    skipped,
  };
  const files = writeReport(outDir, { meta, rows, whole, limits });
  console.log(`wrote ${files.join(', ')}`);
}
// Whole-process time first (short, and kept if a long run is cut): what a CLI user pays
// (start-up, imports, open, one operation); an untimed warm-up process, then `repeats` timed.
const wholeVariants = list(args['whole-variants'] ?? (smoke ? 'sharded' : 'sharded,zstd0'), []);
const wholeOps = list(args.whole ?? (smoke ? 'read_all' : 'read_all,write'), []);
for (const variant of wholeVariants.filter((v) => variantNames.includes(v))) {
  for (const op of wholeOps.filter((o) => ops.includes(o))) {
    for (const peer of available) {
      const ms = [];
      let error;
      // Smoke: one process, no warm-up, is enough to keep this path working.
      const warmups = smoke ? 0 : 1;
      for (let i = 0; i < (smoke ? 1 : warmups + repeats) && !error; i++) {
        const r = runPeer(peer, specFor(variant, peer, [op], true), `${variant}-once`);
        error = r.error ?? r.out.ops[op]?.error;
        if (i >= warmups) ms.push(r.ms);
      }
      whole.push(
        error ? { variant, peer: peer.name, op, error } : { variant, peer: peer.name, op, medianMs: median(ms), ms },
      );
    }
  }
  if (!smoke) report();
}

// Smoke: only ours and the ceiling run every layout; the other peers run the sharded one (their
// start-up is what a smoke run waits for, and other layouts are the same code on other metadata).
const EVERY_VARIANT_IN_SMOKE = new Set(['zarrs-node', 'raw-zarrs']);
const runsOn = (peer, variant) => !smoke || EVERY_VARIANT_IN_SMOKE.has(peer.name) || variant === 'sharded';
for (const variant of variantNames) {
  for (const peer of available.filter((p) => runsOn(p, variant))) {
    const spec = specFor(variant, peer, ops, false);
    console.log(`${variant}: ${peer.name} (${spec.ops.join(', ')})`);
    const { out, error } = runPeer(peer, spec, variant);
    if (error) {
      for (const op of spec.ops) rows.push({ variant, peer: peer.name, op, error });
      continue;
    }
    versions[peer.name] = peer.version?.(root) ?? out.version;
    if (out.threads !== threads && peer.name !== 'zarrita')
      throw new Error(`${peer.name} ran with ${out.threads} threads, expected ${threads}`);
    for (const op of spec.ops) {
      const r = out.ops[op] ?? { error: 'not reported' };
      const row = { variant, peer: peer.name, op };
      if (r.error) {
        rows.push({ ...row, error: r.error });
        continue;
      }
      let checksumOk = r.checksum === expectedSum(op);
      if (checksumOk && (op === 'write' || op === 'round_trip')) {
        const written = op === 'write' ? spec.writeTarget : spec.roundTripTarget;
        checksumOk = (await storedSum(written)) === truth.total;
      }
      if (!checksumOk) console.log(`  CHECKSUM MISMATCH ${peer.name} ${variant} ${op}: ${r.checksum}`);
      rows.push({
        ...row,
        medianMs: median(r.ms),
        ms: r.ms,
        peakRssKiB: r.peakRssKiB,
        checksumOk,
        p50Us: r.p50Us,
        p99Us: r.p99Us,
      });
    }
    rmSync(join(work, peer.name), { recursive: true, force: true });
  }
  if (!smoke) report();
}

report();
// a smoke run's data lives in its own temporary directory: nothing there is worth keeping
if (!smoke) rmSync(work, { recursive: true, force: true });
else if (!args.data) rmSync(dataDir, { recursive: true, force: true });
const bad = rows.filter((r) => r.checksumOk === false);
if (bad.length) {
  console.error(`${bad.length} checksum mismatches`);
  process.exitCode = 1;
}
if (!existsSync(outDir)) process.exitCode = 1;
