// The physical limit on this machine and data: `zstd -b` decode/encode throughput of the very
// chunks (their decoded bytes, one block per chunk; one core, then `cores` processes at once),
// the bandwidth of reading a store's files from the page cache, and the output floor: what
// placing decoded chunks into one fresh output of the array's size costs with no decoding at all.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { chunkFiles } from './data.mjs';

const run = promisify(execFile);
export const ZSTD = '/usr/bin/zstd';

/** One `zstd -b<level> -B<block>` run: compress and decompress speed in bytes per second. */
export async function zstdBench(file, level, block, seconds) {
  const { stdout, stderr } = await run(ZSTD, [`-b${level}`, `-B${block}`, `-i${seconds}`, file]);
  const lines = `${stdout}${stderr}`.split(/[\r\n]/);
  const m = lines
    .map((l) => /,\s*([\d.]+) MB\/s,\s*([\d.]+) MB\/s/.exec(l))
    .filter(Boolean)
    .at(-1);
  if (!m) throw new Error(`could not parse 'zstd -b' output: ${lines.slice(-3).join(' | ')}`);
  return { encode: Number(m[1]) * 1e6, decode: Number(m[2]) * 1e6 };
}

/** Concatenate the uncompressed store's chunk files: exactly the decoded chunks, in one file. */
function decodedChunks(uncompressedStore, out) {
  if (existsSync(out)) return out;
  const files = chunkFiles(uncompressedStore);
  const fd = openSync(out, 'w');
  for (const f of files) {
    const b = Buffer.alloc(statSync(f).size);
    const r = openSync(f, 'r');
    readSync(r, b, 0, b.length, 0);
    closeSync(r);
    writeFileSync(fd, b);
  }
  closeSync(fd);
  return out;
}

/** Read every file of `store` into one reused buffer; best of `rounds` after a warm pass. */
function pageCacheBandwidth(store, rounds) {
  const files = chunkFiles(store);
  const sizes = files.map((f) => statSync(f).size);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const buf = Buffer.allocUnsafe(Math.max(...sizes));
  const pass = () => {
    for (const f of files) {
      const fd = openSync(f, 'r');
      while (readSync(fd, buf, 0, buf.length, null) > 0);
      closeSync(fd);
    }
  };
  pass();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    pass();
    best = Math.min(best, performance.now() - t);
  }
  return { bytes, bytesPerS: bytes / (best / 1e3) };
}

/**
 * The raw peer's `--output-floor`: a fresh output of `side`^3 uint16 filled from one hot chunk
 * per cell of the `chunk`^3 grid (page faults and scattered row copies only), `threads` threads;
 * the median ms of `rounds`, or `{ skipped }` without the binary.
 */
async function outputFloor({ rawBin, side, chunk, threads, dataDir, rounds }) {
  if (!rawBin) return { skipped: 'the raw-zarrs peer is not built' };
  const spec = `${dataDir}/output-floor.json`;
  writeFileSync(spec, JSON.stringify({ shape: [side, side, side], chunk: [chunk, chunk, chunk], repeats: rounds }));
  try {
    const env = { ...process.env, RAYON_NUM_THREADS: String(threads) };
    const { stdout } = await run(rawBin, ['--output-floor', spec, '2'], { env });
    const { ms } = JSON.parse(stdout);
    const sorted = [...ms].sort((a, b) => a - b);
    return { ms: sorted[sorted.length >> 1], bytes: 2 * side ** 3, chunk, threads };
  } finally {
    rmSync(spec, { force: true });
  }
}

/**
 * `zstd -b` at the level zarrs uses for `zstd:0` (zstd's default, 3) with one block per chunk,
 * single-core and with `cores` concurrent processes (the CLI's decoder is single-threaded, so
 * x cores means x processes); page-cache bandwidth of the zstd and uncompressed stores; the
 * output floor of a full read (`rawBin`, the raw peer; `chunk`, the decode unit's side).
 */
export async function measureLimits({ stores, chunkBytes, cores, dataDir, side, seconds, rawBin, chunk }) {
  if (!existsSync(ZSTD)) return { skipped: `${ZSTD} is missing` };
  const file = decodedChunks(stores.uncompressed, `${dataDir}/u16-${side}-chunks.raw`);
  const one = await zstdBench(file, 3, chunkBytes, seconds);
  const many = await Promise.all(Array.from({ length: cores }, () => zstdBench(file, 3, chunkBytes, seconds)));
  const sum = (k) => many.reduce((a, r) => a + r[k], 0);
  return {
    zstd: {
      command: `zstd -b3 -B${chunkBytes} -i${seconds} (decoded chunks, ${cores} processes for x cores)`,
      decode1: one.decode,
      encode1: one.encode,
      decodeN: sum('decode'),
      encodeN: sum('encode'),
      cores,
    },
    outputFloor: await outputFloor({ rawBin, side, chunk, threads: cores, dataDir, rounds: 5 }),
    pageCache: {
      zstd0: pageCacheBandwidth(stores.zstd0, 3),
      uncompressed: pageCacheBandwidth(stores.uncompressed, 3),
    },
  };
}
