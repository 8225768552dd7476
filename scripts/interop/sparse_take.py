#!/usr/bin/env python3
"""The reference for the sparse take: read an AnnData zarr store with python
anndata and, for each case on stdin (JSON list of ``{elem, major, minor}``),
print scipy's answer as a canonical (sorted-indices) compressed matrix.

``elem`` is ``X``, ``raw/X`` or ``layers/<name>``. A CSR case is
``X[major][:, minor]``; a CSC case (``elem`` stored as CSC) is
``M[:, major][minor, :]``, i.e. the asked columns with the asked rows kept.
``minor`` is null (all), ``{"start", "stop"}`` or a list of positions.

Usage: python scripts/interop/sparse_take.py <store.zarr> < cases.json
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    import anndata as ad
    import numpy as np
    import scipy.sparse as sp

    adata = ad.read_zarr(sys.argv[1])
    out = []
    for case in json.load(sys.stdin):
        elem = case["elem"]
        if elem == "X":
            m = adata.X
        elif elem == "raw/X":
            m = adata.raw.X
        else:
            m = adata.layers[elem.split("/", 1)[1]]
        minor = case["minor"]
        if minor is None:
            keep = slice(None)
        elif isinstance(minor, dict):
            keep = slice(minor["start"], minor["stop"])
        else:
            keep = np.asarray(minor, dtype=np.int64)
        major = np.asarray(case["major"], dtype=np.int64)
        if sp.issparse(m) and m.format == "csc":
            r = sp.csc_matrix(m[:, major][keep, :])
        else:
            r = sp.csr_matrix(m[major][:, keep])
        r.sort_indices()
        out.append(
            {
                "shape": list(r.shape),
                "indptr": r.indptr.tolist(),
                "indices": r.indices.tolist(),
                "data": r.data.tolist(),
            }
        )
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
