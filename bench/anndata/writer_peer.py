"""The python reference row of bench/anndata/writer.mjs: anndata 0.13.4 has no streaming writer, so
this builds the same kind of AnnData (CSR float32, ~N non-zeros per row, string index, a
categorical and two float64 obs columns) whole in memory and writes it with `write_zarr` (zarr v3,
anndata's default sharding, zarrs-python codec pipeline). Prints one JSON line.

    python bench/anndata/writer_peer.py OUT --cells N --genes M --nnz-per-row K [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--cells", type=int, required=True)
    p.add_argument("--genes", type=int, required=True)
    p.add_argument("--nnz-per-row", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=20261201)
    a = p.parse_args()

    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    import zarr
    import zarrs

    zarr.config.set({"threading.max_workers": a.threads, "codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    ad.settings.zarr_write_format = 3

    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    n, m = a.cells, a.genes
    counts = rng.binomial(m, a.nnz_per_row / m, size=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    # sorted distinct columns per row: a random subset of each row's width
    indices = np.concatenate([np.sort(rng.choice(m, size=c, replace=False)) for c in counts]).astype(np.int32)
    data = (rng.integers(1, 21, size=indices.size)).astype(np.float32)
    X = sp.csr_matrix((data, indices, indptr), shape=(n, m))
    cell_types = ["T cell", "B cell", "NK", "monocyte", "DC", "platelet", "erythrocyte", "HSC"]
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(rng.choice(cell_types, size=n)),
            "total_counts": counts.astype(np.float64),
            "score": rng.random(n),
        },
        index=[f"cell-{i}" for i in range(n)],
    )
    adata = ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"gene-{j}" for j in range(m)]))
    t1 = time.perf_counter()
    adata.write_zarr(a.out)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": t2 - t0,
                "genSeconds": t1 - t0,
                "writeSeconds": t2 - t1,
                "nnz": int(X.nnz),
                # ru_maxrss: KiB on Linux
                "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "anndata": ad.__version__,
                "zarrs": zarrs.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
