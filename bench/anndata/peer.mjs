// One zarrs-node AnnData benchmark peer in a fresh process: load the source (untimed), then time
// one writeZarr (defaults: v3, sharded, zstd, consolidated) or one full readZarr. Prints JSON.
//   node bench/anndata/peer.mjs write|read <source-or-store> [out] [--zstd]
// --zstd: plain zstd level 3 for every array (python anndata's codec) instead of our default.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [op, store, out] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const zstd = process.argv.includes('--zstd');
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { readZarr, writeZarr } = await import(join(root, 'dist', 'anndata', 'index.js'));

let ms;
let adata;
if (op === 'write') {
  adata = await readZarr(store);
  const t = performance.now();
  await writeZarr(out, adata, zstd ? { compressor: 'zstd:3' } : {});
  ms = performance.now() - t;
} else {
  const t = performance.now();
  adata = await readZarr(store);
  ms = performance.now() - t;
}
const peakRss = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ ms, peakRss, nnz: adata.X.data.length }));
