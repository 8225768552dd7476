#!/usr/bin/env python3
"""Read numpy-dtype arrays (records, fixed-length strings, datetimes) with the reference and
print them as JSON in the form of __test__/fixtures/numpy-dtypes/expected.json.

Usage:
    numpy_read.py zarr <store>                 # one array, read by zarr-python
    numpy_read.py anndata <store> <uns path>   # an element of adata.uns, read by anndata
                                               # (path like rank_genes_groups/names)
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from numpy_dtypes import describe  # noqa: E402

warnings.filterwarnings("ignore")


def main() -> None:
    kind, store = sys.argv[1], sys.argv[2]
    if kind == "zarr":
        import zarr

        arr = zarr.open_array(store, mode="r")[...]
    else:
        import anndata as ad

        elem = ad.read_zarr(store).uns
        for part in sys.argv[3].split("/"):
            elem = elem[part]
        arr = np.asarray(elem)
    print(json.dumps(describe(arr), ensure_ascii=False))


if __name__ == "__main__":
    main()
