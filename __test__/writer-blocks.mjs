// Deterministic random row blocks for the AnnDataWriter tests, shared by the test and the child
// process it kills (which imports the built package): plain arrays here, objects built by `toBlock`
// with whichever copy of the library the caller uses.

import { rng } from './rng.mjs';

export const N_VARS = 40;
export const PCA = 3;
const CELL_TYPES = ['T cell', 'B cell', 'NK', 'monocyte', 'DC', 'platelet', 'Ä-type', 'zeta'];

/** `count` blocks of 0..12 rows: counts (dense, ~85% zeros), pca, and the obs columns. */
export function makeBlocks(seed, count) {
  const r = rng(seed);
  const out = [];
  let row = 0;
  for (let b = 0; b < count; b++) {
    const n = Math.floor(r() * 13);
    const counts = new Float32Array(n * N_VARS);
    for (let i = 0; i < counts.length; i++) if (r() < 0.15) counts[i] = 1 + Math.floor(r() * 20);
    const pca = Float64Array.from({ length: n * PCA }, () => r() * 2 - 1);
    // cell types appear gradually, so later shards bring new categories
    const pool = Math.min(CELL_TYPES.length, 1 + Math.floor(b / 120));
    const cellType = Array.from({ length: n }, () => CELL_TYPES[Math.floor(r() * pool)]);
    const score = Float64Array.from({ length: n }, () => r());
    const missing = Uint8Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0));
    const nGenes = Int32Array.from(missing, (m) => (m ? 0 : Math.floor(r() * 5000)));
    const barcode = Array.from({ length: n }, (_, i) => `cell-${row + i}-${Math.floor(r() * 1e6)}`);
    out.push({ n, counts, pca, cellType, score, nGenes, missing, barcode, asCategorical: r() < 0.5 });
    row += n;
  }
  return out;
}

/** The CSR form of a row-major dense block. */
export function csrOf(values, n, m) {
  const data = [];
  const indices = [];
  const indptr = new BigInt64Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = values[i * m + j];
      if (v !== 0) {
        data.push(v);
        indices.push(j);
      }
    }
    indptr[i + 1] = BigInt(data.length);
  }
  return { data: Float32Array.from(data), indices: Int32Array.from(indices), indptr };
}

/** The writer's block: X in `format` (float32), layer `counts` in the other format (int32), obsm. */
export function toBlock(b, lib, format) {
  const { CsrMatrix, DataFrame, col } = lib;
  const csr = (values, dtype) => {
    const c = csrOf(values, b.n, N_VARS);
    const data = dtype === 'int32' ? Int32Array.from(c.data) : c.data;
    // scipy's default index type for small matrices: int32 indptr
    return new CsrMatrix({ data, indices: c.indices, indptr: Int32Array.from(c.indptr, Number), shape: [b.n, N_VARS] });
  };
  const dense = (values, dtype) => ({
    dtype,
    data: dtype === 'int32' ? Int32Array.from(values) : values,
    shape: [b.n, N_VARS],
  });
  const X = format === 'csr' ? csr(b.counts, 'float32') : dense(b.counts, 'float32');
  const counts = format === 'csr' ? dense(b.counts, 'int32') : csr(b.counts, 'int32');
  const cellType = b.asCategorical ? col.categorical(b.cellType) : col.string(b.cellType);
  const obs = new DataFrame({
    index: b.barcode,
    columns: [
      ['cell_type', cellType],
      ['score', col.numeric(b.score)],
      ['barcode', col.string(b.barcode)],
      ['n_genes', { kind: 'nullable-integer', dtype: 'int32', values: b.nGenes, mask: b.missing }],
    ],
  });
  return { X, obs, layers: { counts }, obsm: { X_pca: { dtype: 'float64', data: b.pca, shape: [b.n, PCA] } } };
}

export const SHARDS = { chunkBytes: 512, shardBytes: 4096 };

/** The writer's create options (var built by the caller's library). */
export function createOptions(lib, format) {
  const { DataFrame, col } = lib;
  const genes = Array.from({ length: N_VARS }, (_, j) => `gene-${j}`);
  const v = new DataFrame({
    index: genes,
    columns: [
      ['highly_variable', col.bool(genes.map((_, j) => j % 3 === 0))],
      ['chrom', col.string(genes.map((_, j) => `chr${j % 5}`))],
    ],
  });
  return {
    var: v,
    obsSchema: {
      columns: [
        { name: 'cell_type', kind: 'categorical' },
        { name: 'score', kind: 'numeric', dtype: 'float64' },
        { name: 'barcode', kind: 'string' },
        { name: 'n_genes', kind: 'nullable-integer', dtype: 'int32' },
      ],
    },
    X: { format, dtype: 'float32' },
    layers: { counts: { format: format === 'csr' ? 'dense' : 'csr', dtype: 'int32' } },
    obsm: { X_pca: { format: 'dense', dtype: 'float64', width: PCA } },
    shards: SHARDS,
  };
}
