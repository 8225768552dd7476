// Lazy-read benchmark (issue 9): zarrs-node's readLazy against python anndata 0.13.4's read_lazy
// (its default codec pipeline, and zarrs-python's), on one store, locally and through a proxy
// adding 20 ms per request, as ratios; plus the peak RSS of iterating every row.
//
//   node scripts/build.mjs --release && node bench/anndata/lazy.mjs      # 50k x 20k, 3 rounds
//   node bench/anndata/lazy.mjs --quick --out DIR                        # 3,000 x 800, 1 round
//   node bench/anndata/lazy.mjs --quick --peers zarrs-node               # ours only: seconds
//
// The store (issue 9's): gen.py's dataset (benchmarks.md) at 50,000 x 20,000 (~50M non-zeros),
// written by python anndata 0.13.4 with its zarr v3 defaults (auto-sharded, consolidated);
// `--store-writer zarrs-node` writes the same data with our writeZarr instead. Made once under
// bench/.data/anndata (--store PATH uses another). Operations, each a fresh open in a fresh
// process (open untimed except for `open`): open; one obs column (n_counts); 1,024 random sorted
// rows of X; a contiguous 10k-row slice of X; 100 single rows of X, each its own get (p50 of the
// per-row times); a view (10k contiguous rows x 50 genes) to memory; iterate all rows in
// 1,000-row blocks. Peak RSS: VmHWM of the iterate process, next to its RSS before iterating and
// one block's decoded size. Every peer's result is checked against ours.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ZSTD, zstdBench } from '../limits.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    threads: { type: 'string', default: '2' },
    latency: { type: 'string', default: '20' },
    store: { type: 'string' },
    'store-writer': { type: 'string', default: 'anndata' },
    out: { type: 'string' },
    data: { type: 'string' },
    locations: { type: 'string', default: 'local,proxy' },
    peers: { type: 'string', default: 'zarrs-node,anndata,anndata+zarrs' },
    child: { type: 'string' },
  },
});

/** /proc/self/status field in KiB (VmRSS, VmHWM). */
function statusKiB(field) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : -1;
}

/** Child: zarrs-node's measurements of `spec.ops`, each after a fresh open; JSON like lazy_peer.py. */
async function child(spec) {
  const out = {};
  for (const op of spec.ops) out[op] = await measure(op, spec);
  return out;
}

async function measure(op, spec) {
  const { columnValues, readLazy } = await import(join(root, 'dist', 'anndata', 'index.js'));
  const { slice } = await import(join(root, 'dist', 'index.js'));
  const sum = (xs) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += Number(xs[i]);
    return s;
  };
  if (op === 'floor-rows' || op === 'floor-single') return floor(op, spec);
  if (op === 'open') {
    const t = performance.now();
    const a = await readLazy(spec.stores[op]);
    return { ms: performance.now() - t, check: a.nObs, hwmKiB: statusKiB('VmHWM') };
  }
  const a = await readLazy(spec.stores[op]);
  const rssBeforeKiB = statusKiB('VmRSS');
  const t = performance.now();
  let check;
  let blockBytes;
  if (op === 'column') {
    // the column's values as one typed array, as python's `to_numpy()` gives them (not
    // `columnValues`, which boxes every value into a JS array)
    const col = await a.obs.column('n_counts').get();
    check = sum(col.kind === 'numeric' ? col.data : columnValues(col));
  } else if (op === 'rows') {
    check = sum((await a.X.get(spec.rows)).data);
  } else if (op === 'slice') {
    check = sum((await a.X.get(slice(...spec.sliceRows))).data);
  } else if (op === 'single') {
    // each row its own get; the op's time is the median row's
    const times = [];
    check = 0;
    for (const r of spec.singleRows) {
      const t0 = performance.now();
      check += sum((await a.X.get(slice(r, r + 1))).data);
      times.push(performance.now() - t0);
    }
    const sorted = times.sort((x, y) => x - y);
    return { ms: sorted[Math.floor(sorted.length / 2)], p90: sorted[Math.floor(sorted.length * 0.9)], check };
  } else if (op === 'view') {
    check = (await a.select(slice(...spec.viewRows), spec.genes).toMemory()).X.data.length;
  } else if (op === 'iterate') {
    check = 0;
    for await (const b of a.iterate({ batchSize: spec.batch })) {
      check += b.X.data.length;
      // decoded size of one block: X's three arrays and obsm (obs is small next to them)
      const x = b.X;
      const obsm = Object.values(b.obsm).reduce((s, m) => s + (m.data?.byteLength ?? 0), 0);
      blockBytes = Math.max(blockBytes ?? 0, x.data.byteLength + x.indices.byteLength + x.indptr.byteLength + obsm);
    }
  } else {
    throw new Error(`unknown op ${op}`);
  }
  return { ms: performance.now() - t, check, hwmKiB: statusKiB('VmHWM'), rssBeforeKiB, blockBytes };
}

/**
 * The decode floor of a row read: the zstd decode of exactly the inner chunks of X/data and
 * X/indices the rows' values lie in, which any reader of this store must decode. Measured as
 * `zstd -b` of those chunks' decoded bytes (one block per chunk, zarrs' zstd:0 = level 3), one
 * process per thread at once; floor = bytes / their summed decode speed. A python peer's time
 * over the floor is the largest ratio any reader can reach on this store and machine.
 */
async function floor(op, spec) {
  const { openArray, slice } = await import(join(root, 'dist', 'index.js'));
  const [indptr, data, indices] = await Promise.all(
    ['X/indptr', 'X/data', 'X/indices'].map((p) => openArray(spec.stores[op], p)),
  );
  const ptr = (await indptr.get()).data;
  const [c] = data.chunks;
  const total = Math.ceil(data.shape[0] / c);
  const rows = op === 'floor-rows' ? spec.rows : spec.singleRows.slice(0, 1);
  const ids = new Set();
  for (const r of rows) {
    const [a, b] = [Number(ptr[r]), Number(ptr[r + 1])];
    for (let k = Math.floor(a / c); k * c < b; k++) ids.add(k);
  }
  const file = join(tmpdir(), `zn-lazy-floor-${process.pid}.raw`);
  let bytes = 0;
  let chunkBytes = 0;
  writeFileSync(file, '');
  for (const arr of [data, indices]) {
    for (const k of [...ids].sort((x, y) => x - y)) {
      const v = (await arr.get([slice(k * c, Math.min(arr.shape[0], (k + 1) * c))])).data;
      appendFileSync(file, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      bytes += v.byteLength;
      chunkBytes = Math.max(chunkBytes, v.byteLength);
    }
  }
  const runs = await Promise.all(Array.from({ length: spec.threads }, () => zstdBench(file, 3, chunkBytes, 1)));
  rmSync(file, { force: true });
  const decodeBytesPerS = runs.reduce((s, r) => s + r.decode, 0);
  return {
    ms: (bytes / decodeBytesPerS) * 1e3,
    chunks: ids.size,
    totalChunks: total,
    chunkValues: c,
    bytes,
    decodeBytesPerS,
  };
}

if (args.child) {
  process.stdout.write(`${JSON.stringify(await child(JSON.parse(args.child)))}\n`);
  process.exit(0);
}

const quick = args.quick;
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const threads = Number(args.threads);
const env = { ...process.env, ZARRS_NODE_THREADS: String(threads), RAYON_NUM_THREADS: String(threads) };
const run = promisify(execFile);
const dataDir =
  args.data ?? (quick ? join(tmpdir(), `zn-bench-lazy-${process.pid}`) : join(root, 'bench', '.data', 'anndata'));
mkdirSync(dataDir, { recursive: true });
const PY = join(root, '.venv-anndata-0.13', 'bin', 'python');
if (!existsSync(PY)) throw new Error('.venv-anndata-0.13 is missing: run bash scripts/setup-python.sh');

async function prepare() {
  if (args.store) return args.store;
  const size = quick ? ['--cells', '3000', '--genes', '800'] : ['--cells', '50000'];
  const name = quick ? 'lazy-quick' : 'lazy-50k';
  const gen = (out) => {
    console.error(`generating ${out} ...`);
    return run(PY, [join(root, 'bench', 'anndata', 'gen.py'), out, ...size], { env });
  };
  if (args['store-writer'] === 'anndata') {
    // gen.py writes a NAME.v3.zarr with anndata's own v3 defaults
    const store = join(dataDir, `${name}.v3.zarr`);
    if (!existsSync(join(store, 'zarr.json'))) await gen(store);
    return store;
  }
  if (args['store-writer'] !== 'zarrs-node')
    throw new Error(`--store-writer: anndata or zarrs-node, got ${args['store-writer']}`);
  const source = join(dataDir, `${name}-source.zarr`);
  const store = join(dataDir, `${name}.zarrs-node.zarr`);
  if (!existsSync(join(source, '.zgroup'))) await gen(source);
  if (!existsSync(join(store, 'zarr.json'))) {
    const { readZarr, writeZarr } = await import(join(root, 'dist', 'anndata', 'index.js'));
    await writeZarr(store, await readZarr(source));
  }
  return store;
}

const store = await prepare();
const { readLazy } = await import(join(root, 'dist', 'anndata', 'index.js'));
const opened = await readLazy(store);
const [nObs, nVars] = opened.shape;
/** n distinct positions below `max`, sorted (a seeded LCG: the same every run). */
function positions(n, max, seed) {
  const out = new Set();
  let x = seed;
  while (out.size < Math.min(n, max)) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.add(x % max);
  }
  return [...out].sort((a, b) => a - b);
}
const sliceStart = Math.floor(nObs / 3);
const base = {
  rows: positions(1024, nObs, 12345),
  singleRows: positions(100, nObs, 4242),
  sliceRows: [sliceStart, Math.min(nObs, sliceStart + 10_000)],
  genes: positions(50, nVars, 777),
  viewRows: [0, Math.min(10_000, nObs)],
  batch: 1000,
  threads,
};
const ops = ['open', 'column', 'rows', 'slice', 'single', 'view', 'iterate'];
const wanted = new Set(args.peers.split(','));
const peers = [
  {
    id: 'zarrs-node',
    name: 'zarrs-node',
    cmd: process.execPath,
    argv: (s) => [fileURLToPath(import.meta.url), '--child', s],
  },
  ...[false, true].map((zarrs) => ({
    id: zarrs ? 'anndata+zarrs' : 'anndata',
    name: zarrs ? 'anndata 0.13.4 + zarrs' : 'anndata 0.13.4',
    zarrs,
    cmd: PY,
    argv: (s) => [join(root, 'bench', 'anndata', 'lazy_peer.py'), s],
  })),
].filter((p) => p.id === 'zarrs-node' || wanted.has(p.id));

/** The store as each location serves it (proxy: a range server behind a latency proxy). */
async function locate(where) {
  if (where === 'local') return { url: store, stop: async () => {} };
  const { startRangeServer, startFaultProxy } = await import(join(root, 'scripts', 'loopback-servers.mjs'));
  const server = await startRangeServer(store);
  const proxy = await startFaultProxy(server.url, Number(args.latency));
  return {
    url: proxy.url,
    log: proxy.log,
    stop: async () => {
      await proxy.stop();
      await server.stop();
    },
  };
}

const results = {}; // `${where}/${op}/${peer}` -> [{ms, check, requests?, ...}]
// per peer, location and round two processes: the short ops one after the other (each on a
// fresh open), and iterate alone (its peak RSS is the process's)
const batches = [ops.filter((op) => op !== 'iterate'), ['iterate']];
for (const where of args.locations.split(',')) {
  // one server (and proxy) per op, so the proxy's log counts each op's requests
  const locs = Object.fromEntries(await Promise.all(ops.map(async (op) => [op, await locate(where)])));
  for (let r = 0; r < rounds; r++) {
    for (const batch of batches) {
      for (const p of peers) {
        const stores = Object.fromEntries(batch.map((op) => [op, locs[op].url]));
        const spec = JSON.stringify({ ...base, stores, ops: batch, zarrs: p.zarrs ?? false });
        const before = Object.fromEntries(batch.map((op) => [op, locs[op].log?.length ?? 0]));
        let got;
        try {
          const { stdout } = await run(p.cmd, p.argv(spec), { env, cwd: root, maxBuffer: 64 * 2 ** 20 });
          got = JSON.parse(stdout.trim().split('\n').pop());
        } catch (e) {
          const error = String(e.stderr || e)
            .trim()
            .split('\n')
            .slice(-1)[0];
          got = Object.fromEntries(batch.map((op) => [op, { error }]));
        }
        for (const op of batch) {
          const res = got[op];
          if (locs[op].log && !res.error) res.requests = locs[op].log.length - before[op];
          const key = `${where}/${op}/${p.name}`;
          results[key] = [...(results[key] ?? []), res];
          console.error(`${where} round ${r + 1} ${op} ${p.name}: ${res.error ?? `${res.ms.toFixed(1)} ms`}`);
        }
      }
    }
  }
  await Promise.all(Object.values(locs).map((l) => l.stop()));
}

// the decode floors (local only: through the proxy the floor is the requests' latency; they
// need the zstd CLI, as the arrays suite's limits do)
const FLOORS = ['floor-rows', 'floor-single'];
if (args.locations.split(',').includes('local') && existsSync(ZSTD)) {
  for (let r = 0; r < rounds; r++) {
    const spec = JSON.stringify({ ...base, stores: { 'floor-rows': store, 'floor-single': store }, ops: FLOORS });
    const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--child', spec], {
      env,
      cwd: root,
    });
    const got = JSON.parse(stdout.trim().split('\n').pop());
    for (const op of FLOORS) {
      results[`local/${op}/zarrs-node`] = [...(results[`local/${op}/zarrs-node`] ?? []), got[op]];
      console.error(`local round ${r + 1} ${op}: ${got[op].ms.toFixed(1)} ms`);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
const LABEL = {
  open: 'open (readLazy / read_lazy)',
  column: 'one obs column (n_counts)',
  rows: `${base.rows.length} random sorted rows of X`,
  slice: `${base.sliceRows[1] - base.sliceRows[0]} contiguous rows of X`,
  single: `one row of X, p50 of ${base.singleRows.length}`,
  view: `view ${base.viewRows[1]} rows x ${base.genes.length} genes, toMemory`,
  iterate: `iterate all rows, ${base.batch}-row blocks`,
};
const summary = [];
let md = `# Lazy reads: zarrs-node readLazy vs anndata 0.13.4 read_lazy\n\n`;
md += `Store: ${nObs.toLocaleString('en')} x ${nVars.toLocaleString('en')} CSR (${store.split('/').pop()}, written by ${args.store ? 'a given writer' : args['store-writer'] === 'anndata' ? 'python anndata 0.13.4, its zarr v3 defaults' : 'zarrs-node writeZarr'}), ${threads} threads, median of ${rounds}; each measurement a fresh open in a fresh process. proxy: HTTP range server behind ${args.latency} ms per request. Ratio: peer time / zarrs-node time (higher: we are faster).\n\n`;
md +=
  '| where | operation | peer | ms | ratio | target | requests | check |\n| --- | --- | --- | ---: | ---: | --- | ---: | --- |\n';
/** Issue 9's targets: peer time / ours >= 5 on random and single rows, >= 2 elsewhere. */
const TARGET = { rows: 5, single: 5 };
for (const where of args.locations.split(',')) {
  for (const op of ops) {
    const ours = results[`${where}/${op}/zarrs-node`];
    const oursMs = ours.every((x) => !x.error) ? median(ours.map((x) => x.ms)) : Number.NaN;
    for (const p of peers) {
      const rs = results[`${where}/${op}/${p.name}`];
      const err = rs.find((x) => x.error);
      if (err) {
        md += `| ${where} | ${LABEL[op]} | ${p.name} | error: ${err.error.slice(0, 120)} | | | | |\n`;
        continue;
      }
      const ms = median(rs.map((x) => x.ms));
      const ok = ours[0].error
        ? '?'
        : close(rs[0].check, ours[0].check)
          ? 'same'
          : `DIFFERS (${rs[0].check} vs ${ours[0].check})`;
      const row = { where, op, peer: p.name, ms, ratio: ms / oursMs, requests: rs[0].requests, check: ok };
      if (op === 'iterate')
        Object.assign(row, { hwmKiB: rs[0].hwmKiB, rssBeforeKiB: rs[0].rssBeforeKiB, blockBytes: rs[0].blockBytes });
      summary.push(row);
      const isOurs = p.name === 'zarrs-node';
      const target = TARGET[op] ?? 2;
      const met = isOurs ? '' : `>= ${target}x: ${row.ratio >= target ? 'met' : 'MISSED'}`;
      md += `| ${where} | ${LABEL[op]} | ${p.name} | ${ms.toFixed(1)} | ${isOurs ? '1' : `${row.ratio.toFixed(2)}x`} | ${met} | ${row.requests ?? ''} | ${ok} |\n`;
    }
  }
}
md += '\nPeak RSS of iterate (VmHWM of its process; RSS after the open, before iterating):\n\n';
md +=
  '| where | peer | peak RSS MiB | RSS before MiB | growth MiB | one block decoded MiB | growth / block |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n';
for (const s of summary.filter((x) => x.op === 'iterate')) {
  const mib = (k) => (k / 1024).toFixed(1);
  const block = summary.find((x) => x.where === s.where && x.op === 'iterate' && x.peer === 'zarrs-node')?.blockBytes;
  const growth = (s.hwmKiB - s.rssBeforeKiB) * 1024;
  md += `| ${s.where} | ${s.peer} | ${mib(s.hwmKiB)} | ${mib(s.rssBeforeKiB)} | ${mib(s.hwmKiB - s.rssBeforeKiB)} | ${block ? (block / 2 ** 20).toFixed(1) : ''} | ${block ? (growth / block).toFixed(1) : ''} |\n`;
}
const floors = [];
if (results['local/floor-rows/zarrs-node']) {
  md += `\nDecode floor (local): the zstd decode of only the inner chunks of X/data and X/indices the rows lie in, which every reader must decode: their decoded bytes over \`zstd -b3\` decode speed on them (one block per chunk, ${threads} processes at once). A python peer's time over the floor is the largest ratio any reader can reach on this store and machine.\n\n`;
  md +=
    '| operation | chunks decoded (of each array) | decoded MB, zstd decode GB/s | floor ms | zarrs-node ms | zarrs-node / floor | largest ratio possible vs each python peer |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n';
  for (const [op, fop] of [
    ['rows', 'floor-rows'],
    ['single', 'floor-single'],
  ]) {
    const fl = results[`local/${fop}/zarrs-node`];
    const floorMs = median(fl.map((x) => x.ms));
    const ours = summary.find((s) => s.where === 'local' && s.op === op && s.peer === 'zarrs-node');
    const best = summary
      .filter((s) => s.where === 'local' && s.op === op && s.peer !== 'zarrs-node')
      .map((s) => `${s.peer}: ${(s.ms / floorMs).toFixed(2)}x`)
      .join(', ');
    floors.push({
      op: fop,
      ms: floorMs,
      chunks: fl[0].chunks,
      totalChunks: fl[0].totalChunks,
    });
    md += `| ${LABEL[op]} | ${fl[0].chunks} of ${fl[0].totalChunks} (${fl[0].chunkValues.toLocaleString('en')} values each) | ${(fl[0].bytes / 1e6).toFixed(1)}, ${(median(fl.map((x) => x.decodeBytesPerS)) / 1e9).toFixed(2)} | ${floorMs.toFixed(1)} | ${ours ? ours.ms.toFixed(1) : ''} | ${ours ? (ours.ms / floorMs).toFixed(2) : ''} | ${best} |\n`;
  }
}
const outDir = args.out ?? join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = {
  date: new Date().toISOString(),
  host: hostname(),
  threads,
  latencyMs: Number(args.latency),
  rounds,
  quick,
  storeWriter: args.store ? 'given' : args['store-writer'],
  nObs,
  nVars,
};
writeFileSync(
  join(outDir, quick ? 'lazy-quick.json' : `lazy-${meta.date.slice(0, 10)}-${meta.host}.json`),
  `${JSON.stringify({ meta, base: { ...base, rows: base.rows.length, singleRows: base.singleRows.length }, results, summary, floors }, null, 2)}\n`,
);
writeFileSync(join(outDir, quick ? 'lazy-quick.md' : 'lazy-latest.md'), md);
console.log(md);
if (quick && !args.data) rmSync(dataDir, { recursive: true, force: true });
