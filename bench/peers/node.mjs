// Array benchmark peer for the JS implementations (zarrs-node, zarrita.js), one process per peer
// and variant, speaking the protocol of bench/README.md: spec JSON in, results JSON out.
//   node --expose-gc bench/peers/node.mjs <zarrs-node|zarrita> <spec.json>
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOps } from './ops.mjs';

const [peer, specPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Read the raw little-endian uint16 input for the write operations (untimed). */
function loadInput() {
  const buf = readFileSync(spec.input);
  return new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
}

async function zarrsNode() {
  const zn = await import(join(root, 'dist', 'index.js'));
  const sel = (start, shape) => start.map((s, d) => zn.slice(s, s + shape[d]));
  const open = (path) => zn.openArray(path);
  return {
    version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    threads: zn.getThreads(),
    open,
    read: async (a, start, shape) => (await a.get(sel(start, shape))).data,
    readAll: async (a) => (await a.get()).data,
    // The hot synchronous path: what a per-element caller uses (no thread hop per element).
    readPoint: (a, point) => a.getSync(point).data[0],
    writeAll: (a, data) => a.set(null, { data, shape: spec.shape }),
  };
}

async function zarrita() {
  const z = await import('zarrita');
  const { FileSystemStore } = await import('@zarrita/storage');
  const pkg = JSON.parse(readFileSync(join(root, 'node_modules', 'zarrita', 'package.json'), 'utf8'));
  const sel = (start, shape) => start.map((s, d) => z.slice(s, s + shape[d]));
  const stride = (shape) => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return {
    version: `zarrita ${pkg.version}`,
    threads: 1, // WASM codecs on the JS thread
    open: (path) => z.open(z.root(new FileSystemStore(path)), { kind: 'array' }),
    read: async (a, start, shape) => (await z.get(a, sel(start, shape))).data,
    readAll: async (a) => (await z.get(a)).data,
    readPoint: (a, point) => z.get(a, point),
    writeAll: (a, data) => z.set(a, null, { data, shape: spec.shape, stride: stride(spec.shape) }),
  };
}

const impl = peer === 'zarrs-node' ? await zarrsNode() : peer === 'zarrita' ? await zarrita() : undefined;
if (!impl) throw new Error(`unknown JS peer '${peer}' (zarrs-node or zarrita)`);

/** Sum of all values: the layout-independent checksum every peer computes the same way. */
function sum(data) {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i];
  return s;
}

const freeMemory = async () => {
  // N-API finalizers and zarrita's buffers are released from setImmediate after a GC.
  globalThis.gc?.();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
};

const results = await runOps(spec, { ...impl, sum, loadInput, freeMemory });
process.stdout.write(`${JSON.stringify({ peer, version: impl.version, threads: impl.threads, ops: results })}\n`);
