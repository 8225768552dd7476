// `npm start`: the main job on real data. Convert scanpy's pbmc68k_reduced.h5ad (700 cells x
// 765 genes of 10x Genomics' PBMC 68k data, as the scanpy package ships it: dense X, CSR raw.X
// and obsp graphs, categorical obs columns, PCA/UMAP embeddings, rank_genes_groups tables) into
// sharded Zarr v3 with consolidated metadata at ./example-output.zarr, then print what was
// written (`zarrs-node info`) and the timing.
//
//   npm start [-- <input.h5ad|input.zarr> [<output.zarr>]]

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readLazy } from '../anndata/index.js';
import { renderInfo, storeInfo } from '../cli/info.js';
import { convert } from '../convert/run.js';
import { slice } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The bundled example, unpacked (it is stored gzipped: HDF5 files are mostly padding). */
function bundledExample(): string {
  const gz = join(here, '..', '..', '__test__', 'fixtures', 'h5ad', 'pbmc68k_reduced.h5ad.gz');
  const out = join(mkdtempSync(join(tmpdir(), 'zarrs-node-example-')), 'pbmc68k_reduced.h5ad');
  writeFileSync(out, gunzipSync(readFileSync(gz)));
  return out;
}

const input = process.argv[2] ?? bundledExample();
const output = process.argv[3] ?? 'example-output.zarr';

const report = await convert(input, output, { overwrite: true });
console.log(
  `converted ${process.argv[2] ?? 'pbmc68k_reduced.h5ad (scanpy)'} -> ${output} in ${report.seconds.toFixed(2)} s ` +
    `(${report.arrays} arrays, ${report.groups} groups, zarr v${report.zarrFormat}, sharded, consolidated)\n`,
);
console.log(renderInfo(await storeInfo(output)));

// Reading it back lazily costs one metadata request; a selection reads only what it covers.
const t = performance.now();
const lazy = await readLazy(output);
const firstTen = await lazy.select(slice(0, 10)).toMemory();
console.log(
  `\nreadLazy + 10 cells to memory: ${(performance.now() - t).toFixed(0)} ms ` +
    `(${lazy.nObs} x ${lazy.nVars}; first cell ${firstTen.obsNames[0]})`,
);
