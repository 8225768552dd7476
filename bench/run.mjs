// Array read benchmark: zarrs-node vs raw zarrs (Rust, same zarrs version) vs zarrita.js, same
// data, same machine, one run, reported as ratios. See ../shared/docs/benchmarks.md.
//
//   npm run bench                      # full: 256 MiB uint16, sharded and unsharded, zstd
//   node bench/run.mjs --smoke --out D # tiny sizes; used by the test suite so this never rots
//
// Every peer gets the same thread budget (default 2): ZARRS_NODE_THREADS / RAYON_NUM_THREADS.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { rawBinary } from './raw-bin.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '9' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    data: { type: 'string' },
  },
});
const threads = Number(args.threads);
process.env.ZARRS_NODE_THREADS = String(threads);
process.env.RAYON_NUM_THREADS = String(threads);
const { createArray, openArray, getThreads } = await import(join(root, 'dist', 'index.js'));
const zarrita = await import('zarrita');
const { FileSystemStore } = await import('@zarrita/storage');

const smoke = args.smoke;
const repeats = smoke ? 2 : Number(args.repeats);
const side = smoke ? 64 : 512; // 512^3 uint16 = 256 MiB
const inner = smoke ? 16 : 64;
const shard = smoke ? 32 : 256;
const dataDir =
  args.data ?? join(smoke ? tmpdir() : join(root, 'bench'), smoke ? `zn-bench-smoke-${process.pid}` : '.data');
const profile = smoke ? 'ci' : 'release';
const rawBin = rawBinary(root, profile);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function prepare() {
  const store = join(dataDir, `u16-${side}.zarr`);
  if (existsSync(join(store, 'sharded', 'zarr.json')) && existsSync(join(store, 'chunked', 'zarr.json'))) return store;
  const n = side ** 3;
  const data = new Uint16Array(n);
  // Smooth structure plus a little noise: compresses roughly 3-4x with zstd, like imaging data.
  for (let z = 0, i = 0; z < side; z++)
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++, i++) data[i] = (((x + 2 * y + 3 * z) >> 2) + ((i * 2654435761) >>> 29)) & 0xffff;
  const common = { shape: [side, side, side], dtype: 'uint16', compressors: 'zstd:0', overwrite: true };
  const sharded = await createArray(store, 'sharded', {
    ...common,
    chunks: [inner, inner, inner],
    shards: [shard, shard, shard],
  });
  await sharded.set(null, data);
  const chunked = await createArray(store, 'chunked', { ...common, chunks: [inner, inner, inner] });
  await chunked.set(null, data);
  return store;
}

function nodePeer(peer, store, path) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(root, 'bench', 'peer.mjs'), peer, store, path], {
    encoding: 'utf8',
    env: { ...process.env },
  });
  return JSON.parse(out).ms;
}

function rawOnce(store, path) {
  // Built beforehand (`npm run bench`, or scripts/test.sh for --smoke), never here: a cold
  // cargo build inside a timed run is what made the smoke test time out.
  if (!rawBin) {
    throw new Error(
      `the raw-zarrs peer is missing: run 'cargo build --profile ${profile} -p zarrs-node-bench-raw' first`,
    );
  }
  // Two reads per process: the first warms its pool and page cache, the second is timed.
  const r = JSON.parse(execFileSync(rawBin, ['read', store, path, '2'], { encoding: 'utf8' }));
  if (r.threads !== threads) throw new Error(`raw zarrs ran with ${r.threads} threads, expected ${threads}`);
  return r.ms[1];
}

/**
 * Every peer runs in a fresh process (warm-up read, then one timed read), round by round, so
 * machine noise drifts over all peers alike and no peer's garbage is swept during another's read.
 */
function measure(peers) {
  const ms = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
  for (let i = 0; i < repeats; i++) {
    for (const [name, fn] of Object.entries(peers)) ms[name].push(fn());
  }
  return ms;
}

const store = await prepare();
const bytes = 2 * side ** 3;
const rows = [];
for (const path of ['sharded', 'chunked']) {
  const ours = await openArray(store, path);
  const zr = await zarrita.open(zarrita.root(new FileSystemStore(store)).resolve(path), { kind: 'array' });
  const expected = (await ours.get([0, 0, 0])).data[0];
  const zcheck = await zarrita.get(zr, [0, 0, 0]);
  if (zcheck !== expected) throw new Error(`zarrita read ${zcheck}, zarrs-node ${expected}`);
  const peers = measure({
    'zarrs-node get()': () => nodePeer('zarrs-node', store, path),
    'raw zarrs (Rust)': () => rawOnce(store, path),
    'zarrita.js': () => nodePeer('zarrita', store, path),
  });
  const base = median(peers['raw zarrs (Rust)']);
  const oursMs = median(peers['zarrs-node get()']);
  for (const [peer, ms] of Object.entries(peers)) {
    const m = median(ms);
    rows.push({
      array: path,
      peer,
      medianMs: m,
      mibPerS: bytes / 2 ** 20 / (m / 1e3),
      vsRaw: m / base,
      oursFaster: m / oursMs,
      ms,
    });
  }
}

const meta = {
  date: new Date().toISOString(),
  host: hostname(),
  node: process.version,
  threads: getThreads(),
  data: `uint16 ${side}^3 (${bytes / 2 ** 20} MiB), zstd level 0; sharded: shards ${shard}^3, inner ${inner}^3; chunked: chunks ${inner}^3`,
  repeats,
  smoke,
};
const fmt = (x, d = 2) => x.toFixed(d);
const table = [
  '| array | peer | median ms | MiB/s | time / raw zarrs | time / zarrs-node |',
  '|---|---|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.array} | ${r.peer} | ${fmt(r.medianMs, 1)} | ${fmt(r.mibPerS, 0)} | ${fmt(r.vsRaw)}x | ${fmt(r.oursFaster)}x |`,
  ),
].join('\n');
const md = `# Full-array read, ${meta.data}\n\n${meta.date} on ${meta.host}, Node ${meta.node}, ${meta.threads} threads for every peer, median of ${repeats} interleaved rounds; each peer in a fresh process, timed after a warm-up read.\n\n${table}\n`;
console.log(md);
const outDir = args.out ?? join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const stamp = meta.date.slice(0, 10);
writeFileSync(join(outDir, `${stamp}-${meta.host}.json`), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
writeFileSync(join(outDir, smoke ? 'smoke.md' : 'latest.md'), md);
