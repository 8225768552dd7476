// One benchmark peer in a fresh process, as the raw-zarrs peer runs: a warm-up read (pools, page
// cache), then one timed full read. Prints {"ms": ...}. Used by bench/run.mjs.
//   node --expose-gc bench/peer.mjs <zarrs-node|zarrita> <store dir> <array path>
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [peer, store, path] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let read;
if (peer === 'zarrs-node') {
  const { openArray } = await import(join(root, 'dist', 'index.js'));
  const a = await openArray(store, path);
  read = () => a.get();
} else if (peer === 'zarrita') {
  const zarrita = await import('zarrita');
  const { FileSystemStore } = await import('@zarrita/storage');
  const a = await zarrita.open(zarrita.root(new FileSystemStore(store)).resolve(path), { kind: 'array' });
  read = () => zarrita.get(a);
} else {
  throw new Error(`unknown peer ${peer}`);
}
let first = await read();
const probe = first.data[0];
first = null;
// Free the warm-up result before timing (N-API finalizers run from setImmediate).
globalThis.gc?.();
await new Promise((r) => setImmediate(r));
await new Promise((r) => setImmediate(r));
const t = performance.now();
const { data } = await read();
const ms = performance.now() - t;
process.stdout.write(JSON.stringify({ ms, probe: Number(data[0]), check: Number(probe) }));
