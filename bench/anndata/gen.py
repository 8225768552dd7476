"""Generate the AnnData benchmark dataset of ../shared/docs/benchmarks.md with python anndata:
100,000 cells x 20,000 genes CSR float32 counts (negative binomial, ~5% dense, ~100M non-zeros),
obs with 10 columns, var with gene ids, obsm X_pca 100k x 50, a nested uns dict.

Written once as a zarr v2 unsharded store (what most existing data looks like); every peer loads
it untimed and then times its own write and read. Each OUT is written from the same AnnData, its
format taken from the name: NAME.zarr zarr v2 unsharded, NAME.v3.zarr zarr v3 as anndata 0.13
writes it by default (auto-sharded, consolidated; bench/anndata/lazy.mjs reads it), NAME.h5ad h5ad
uncompressed, NAME.gzip.h5ad h5ad with gzip (bench/convert.mjs uses the v2 and h5ad ones).

    python bench/anndata/gen.py OUT [OUT ...] [--cells N] [--genes M] [--density D] [--seed S]
"""

from __future__ import annotations

import argparse
import time

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp


def build(n: int, m: int, density: float, seed: int) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    indptr = np.zeros(n + 1, dtype=np.int64)
    idx_parts, data_parts = [], []
    block = max(1, 100_000_000 // max(m, 1))  # ~100 MB of random draws per block
    for start in range(0, n, block):
        stop = min(n, start + block)
        mask = rng.random((stop - start, m), dtype=np.float32) < density
        rows, cols = np.nonzero(mask)
        counts = np.bincount(rows, minlength=stop - start)
        indptr[start + 1 : stop + 1] = indptr[start] + np.cumsum(counts)
        idx_parts.append(cols.astype(np.int32))
        data_parts.append((rng.negative_binomial(2, 0.3, size=cols.size) + 1).astype(np.float32))
    X = sp.csr_matrix(
        (np.concatenate(data_parts), np.concatenate(idx_parts), indptr.astype(np.int64)), shape=(n, m)
    )
    X.indptr = X.indptr.astype(np.int64)
    cats50 = [f"type_{i:02d}" for i in range(50)]
    cats8 = [f"batch_{i}" for i in range(8)]
    age = pd.array(rng.integers(20, 90, size=n), dtype="Int32")
    age[rng.random(n) < 0.1] = pd.NA
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical.from_codes(rng.integers(0, 50, size=n), categories=cats50),
            "batch": pd.Categorical.from_codes(rng.integers(0, 8, size=n), categories=cats8),
            "n_counts": np.asarray(X.sum(axis=1)).ravel().astype(np.float32),
            "n_genes": np.diff(X.indptr).astype(np.int32),
            "is_doublet": rng.random(n) < 0.05,
            "barcode": np.array([f"BC{i:08d}" for i in range(n)], dtype=object),
            "pct_mito": rng.random(n),
            "donor_age": age,
            "score": rng.standard_normal(n).astype(np.float32),
            "sample": pd.Categorical.from_codes(rng.integers(0, 8, size=n), categories=[f"s{i}" for i in range(8)]),
        },
        index=pd.Index([f"cell_{i}" for i in range(n)], dtype=object),
    )
    var = pd.DataFrame(
        {"gene_ids": np.array([f"ENSG{j:011d}" for j in range(m)], dtype=object)},
        index=pd.Index([f"gene_{j}" for j in range(m)], dtype=object),
    )
    return ad.AnnData(
        X=X,
        obs=obs,
        var=var,
        obsm={"X_pca": rng.standard_normal((n, 50)).astype(np.float32)},
        uns={"neighbors": {"params": {"n_neighbors": 15, "method": "umap"}}, "log1p": {"base": None}},
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="+")
    p.add_argument("--cells", type=int, default=100_000)
    p.add_argument("--genes", type=int, default=20_000)
    p.add_argument("--density", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    t = time.perf_counter()
    adata = build(a.cells, a.genes, a.density, a.seed)
    for out in a.out:
        # anndata 0.13's own defaults for v3: auto_shard_zarr_v3 (shards up to ~1 GB decoded)
        ad.settings.zarr_write_format = 3 if out.endswith(".v3.zarr") else 2
        if out.endswith(".gzip.h5ad"):
            adata.write_h5ad(out, compression="gzip")
        elif out.endswith(".h5ad"):
            adata.write_h5ad(out, compression=None)
        else:
            adata.write_zarr(out)
    print(f"wrote {', '.join(a.out)}: {adata.shape}, nnz={adata.X.nnz} in {time.perf_counter() - t:.1f}s")


if __name__ == "__main__":
    main()
