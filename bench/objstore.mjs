// Object-store read benchmark (issue 4): a sharded 100,000 x 2,000 float32 array (inner chunks
// of 256 rows x 2,000, shards of 8,192 rows, zstd 3) served by a plain HTTP server with Range
// support, behind a proxy that adds 20 ms to every request. Two reads: an orthogonal
// selection of 1,024 scattered rows, and the whole array. Peers: zarrs-node with range
// coalescing (default), zarrs-node without it, and zarrita.js' FetchStore on the same URL.
// Reported: requests and bytes seen by the proxy, wall time (median), ratios.
//
//   node scripts/build.mjs --release && node bench/objstore.mjs   # full run (data made once)
//   node bench/objstore.mjs --smoke --out DIR                      # tiny; run by the tests
//
// Each measurement runs in a fresh process (no warm caches: shard indexes are fetched again),
// with its own range server and proxy; peers are interleaved round by round.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    latency: { type: 'string', default: '20' },
    out: { type: 'string' },
    data: { type: 'string' },
    // child mode: one measurement
    peer: { type: 'string' },
    op: { type: 'string' },
  },
});
const smoke = args.smoke;
const ROWS = smoke ? 4_000 : 100_000;
const COLS = smoke ? 64 : 2_000;
const INNER = smoke ? 64 : 256;
const SHARD = smoke ? 512 : 8_192;
const PICK = smoke ? 64 : 1_024;
process.env.ZARRS_NODE_THREADS = args.threads;
process.env.RAYON_NUM_THREADS = args.threads;
const dataDir =
  args.data ?? join(smoke ? tmpdir() : join(root, 'bench', '.data'), smoke ? `zn-objbench-${process.pid}` : '');
const storeDir = join(dataDir, `objstore-${ROWS}x${COLS}-v2.zarr`);

/** 1,024 distinct rows spread over the array, sorted (a seeded LCG: the same every run). */
function scatteredRows() {
  const rows = new Set();
  let x = 12345;
  while (rows.size < PICK) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    rows.add(x % ROWS);
  }
  return [...rows].sort((a, b) => a - b);
}

function value(r, c) {
  // Smooth plus 8 bits of noise: zstd gets about 2x, like real measurements.
  return ((r * 7 + c * 3) % 1000) / 8 + (Math.imul(r * COLS + c, 2654435761) >>> 24) / 256;
}

async function prepare() {
  if (existsSync(join(storeDir, 'zarr.json'))) return;
  const { createArray } = await import(join(root, 'dist', 'index.js'));
  mkdirSync(dataDir, { recursive: true });
  const a = await createArray(storeDir, '', {
    shape: [ROWS, COLS],
    dtype: 'float32',
    chunks: [INNER, COLS],
    shards: [SHARD, COLS],
    overwrite: true,
  });
  // Write shard by shard to bound memory.
  for (let r0 = 0; r0 < ROWS; r0 += SHARD) {
    const n = Math.min(SHARD, ROWS - r0);
    const block = new Float32Array(n * COLS);
    for (let r = 0; r < n; r++) for (let c = 0; c < COLS; c++) block[r * COLS + c] = value(r0 + r, c);
    const { slice } = await import(join(root, 'dist', 'index.js'));
    await a.set([slice(r0, r0 + n), null], block);
  }
}

/** Child: start a range server and a 20 ms proxy, run one read, print JSON. */
async function measure(peer, op) {
  const { startRangeServer, startFaultProxy } = await import(join(root, 'scripts', 'loopback-servers.mjs'));
  const server = await startRangeServer(storeDir);
  const proxy = await startFaultProxy(server.url, Number(args.latency));
  const rows = scatteredRows();
  let read;
  let check;
  if (peer === 'zarrita') {
    const zarr = await import('zarrita');
    const { default: FetchStore } = await import('@zarrita/storage/fetch');
    const a = await zarr.open.v3(new FetchStore(proxy.url), { kind: 'array' });
    if (op === 'rows') {
      // What a zarrita user does for scattered rows: one get per touched inner chunk (the
      // bounding rows inside it), all at once, then pick the rows.
      read = async () => {
        const groups = new Map();
        for (const r of rows) {
          const k = Math.floor(r / INNER);
          if (!groups.has(k)) groups.set(k, []);
          groups.get(k).push(r);
        }
        const out = new Float32Array(rows.length * COLS);
        let i = 0;
        const parts = await Promise.all(
          [...groups.values()].map(async (rs) => ({
            rs,
            chunk: await zarr.get(a, [zarr.slice(rs[0], rs[rs.length - 1] + 1), null]),
          })),
        );
        for (const { rs, chunk } of parts) {
          for (const r of rs) {
            out.set(chunk.data.subarray((r - rs[0]) * COLS, (r - rs[0] + 1) * COLS), i * COLS);
            i++;
          }
        }
        return out;
      };
    } else {
      read = async () => (await zarr.get(a)).data;
    }
  } else {
    const { openArray, openStore } = await import(join(root, 'dist', 'index.js'));
    const store = await openStore(proxy.url, { coalesce: peer !== 'zarrs-node-nocoalesce' });
    const a = await openArray(store, '');
    read = async () => (op === 'rows' ? await a.getOrthogonal([rows, null]) : await a.get()).data;
  }
  if (op === 'rows') {
    check = (out) => {
      for (const [i, r] of [rows[0], rows[rows.length - 1]].entries()) {
        const at = i === 0 ? 0 : (rows.length - 1) * COLS;
        if (Math.abs(out[at + 5] - value(r, 5)) > 1e-3) throw new Error(`${peer}: wrong value in row ${r}`);
      }
    };
  } else {
    check = (out) => {
      if (out.length !== ROWS * COLS) throw new Error(`${peer}: wrong length`);
      const r = ROWS - 1;
      if (Math.abs(out[r * COLS + 7] - value(r, 7)) > 1e-3) throw new Error(`${peer}: wrong last row`);
    };
  }
  const before = proxy.log.length;
  const t0 = performance.now();
  const out = await read();
  const ms = performance.now() - t0;
  check(out);
  const seen = proxy.log.slice(before);
  const result = { ms, requests: seen.length, bytes: seen.reduce((s, e) => s + e.bytes, 0) };
  await proxy.stop();
  await server.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (args.peer) {
  await measure(args.peer, args.op);
  process.exit(0);
}

await prepare();
const peers = ['zarrs-node', 'zarrs-node-nocoalesce', 'zarrita'];
const ops = ['rows', 'full'];
const repeats = smoke ? 1 : Number(args.repeats);
const results = {};
for (let round = 0; round < repeats; round++) {
  for (const op of ops) {
    for (const peer of peers) {
      const out = execFileSync(
        process.execPath,
        [
          fileURLToPath(import.meta.url),
          '--peer',
          peer,
          '--op',
          op,
          '--data',
          dataDir,
          '--latency',
          args.latency,
          ...(smoke ? ['--smoke'] : []),
        ],
        { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const r = JSON.parse(out.trim().split('\n').pop());
      const key = `${op}/${peer}`;
      results[key] = [...(results[key] ?? []), r];
      console.error(
        `round ${round + 1} ${op} ${peer}: ${r.ms.toFixed(0)} ms, ${r.requests} requests, ${r.bytes} bytes`,
      );
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const innerChunks = (() => {
  const touched = new Set(scatteredRows().map((r) => Math.floor(r / INNER)));
  return { rows: touched.size, full: Math.ceil(ROWS / INNER) };
})();
const shards = Math.ceil(ROWS / SHARD);
const label = {
  'zarrs-node': 'zarrs-node (coalescing, default)',
  'zarrs-node-nocoalesce': 'zarrs-node (coalesce: false)',
  zarrita: 'zarrita.js FetchStore',
};
const rows = [];
let md = `# Object-store reads: ${ROWS.toLocaleString('en')} x ${COLS.toLocaleString('en')} float32, inner chunks ${INNER} rows, shards ${SHARD} rows, zstd\n\n`;
md += `HTTP range server behind a proxy adding ${args.latency} ms per request; ${args.threads} threads; median of ${repeats}; each run in a fresh process.\n`;
md += `One request per touched inner chunk would be ${innerChunks.rows} (rows) / ${innerChunks.full} (full) plus ${shards} shard indexes.\n\n`;
md +=
  '| read | peer | requests | MB received | wall ms | vs zarrita (time) |\n| --- | --- | ---: | ---: | ---: | ---: |\n';
for (const op of ops) {
  const zt = median(results[`${op}/zarrita`].map((r) => r.ms));
  for (const peer of peers) {
    const rs = results[`${op}/${peer}`];
    const row = {
      op,
      peer,
      requests: median(rs.map((r) => r.requests)),
      bytes: median(rs.map((r) => r.bytes)),
      ms: median(rs.map((r) => r.ms)),
      all_ms: rs.map((r) => Math.round(r.ms)),
    };
    rows.push(row);
    md += `| ${op === 'rows' ? `${PICK} scattered rows` : 'whole array'} | ${label[peer]} | ${row.requests} | ${(row.bytes / 1e6).toFixed(1)} | ${row.ms.toFixed(0)} | ${(zt / row.ms).toFixed(2)}x |\n`;
  }
}
const coalesced = rows.find((r) => r.op === 'rows' && r.peer === 'zarrs-node');
const perChunk = innerChunks.rows + shards;
md += `\nScattered rows: ${coalesced.requests} requests with coalescing vs ${perChunk} for one request per inner chunk (+ indexes): ${(perChunk / coalesced.requests).toFixed(1)}x fewer.\n`;
const outDir = args.out ?? join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = {
  date: new Date().toISOString(),
  host: hostname(),
  threads: args.threads,
  latencyMs: Number(args.latency),
  smoke,
};
const stamp = meta.date.slice(0, 10);
writeFileSync(
  join(outDir, smoke ? 'objstore-smoke.json' : `${stamp}-${meta.host}-objstore.json`),
  `${JSON.stringify({ meta, innerChunks, shards, rows }, null, 2)}\n`,
);
writeFileSync(join(outDir, smoke ? 'objstore-smoke.md' : 'objstore-latest.md'), md);
console.log(md);
