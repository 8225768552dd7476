// `npm start`: the main job on bundled example data. Read an AnnData that python anndata 0.12
// wrote (zarr v2, unsharded: 2,000 cells x 1,000 genes, CSR counts, categorical obs columns),
// convert it to sharded Zarr v3 with consolidated metadata, read it back, check that nothing
// changed, and print the result.
//
//   npm start [-- <input.zarr> [<output.zarr>]]

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readZarr, writeZarr } from '../anndata/index.js';
import { openGroup, openStore } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));
const input = process.argv[2] ?? join(here, '..', '..', '__test__', 'fixtures', 'example', 'cells-2k-v2.zarr');
const output = process.argv[3] ?? join(mkdtempSync(join(tmpdir(), 'zarrs-node-quickstart-')), 'cells.zarr');

let t = performance.now();
const adata = await readZarr(input);
const readMs = performance.now() - t;
console.log(`read ${input}\n  ${adata.nObs} cells x ${adata.nVars} genes in ${readMs.toFixed(0)} ms`);
console.log(`  obs columns: ${adata.obs.columns.join(', ')}`);

t = performance.now();
await writeZarr(output, adata); // defaults: zarr v3, sharded, zstd, consolidated
const writeMs = performance.now() - t;
console.log(`wrote ${output} (zarr v3, sharded, consolidated) in ${writeMs.toFixed(0)} ms\n`);

// Reopening a consolidated store costs exactly one request; reading it all back must give the
// same object.
const store = await openStore(output, { readOnly: true });
const root = await openGroup(store, '', { consolidated: 'require' });
console.log(`open: ${store.stats().requests} request(s)`);
console.log(await root.tree());
const back = await readZarr(store);
const X = adata.X as { data: Float32Array; indices: Int32Array };
const Y = back.X as { data: Float32Array; indices: Int32Array };
const same =
  back.nObs === adata.nObs &&
  back.obs.columns.join() === adata.obs.columns.join() &&
  back.obsNames.every((n, i) => n === adata.obsNames[i]) &&
  Y.data.every((v, i) => v === X.data[i]) &&
  Y.indices.every((v, i) => v === X.indices[i]);
console.log(`round trip identical: ${same}`);
const cellType = back.obs.get('cell_type');
if (cellType.kind === 'categorical') {
  console.log(
    `cell_type: ${cellType.categories.data.length} categories, first cell is ${String(cellType.categories.data[Number(cellType.codes[0])])}`,
  );
}
if (!same) process.exit(1);
