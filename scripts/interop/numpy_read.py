#!/usr/bin/env python3
"""Read numpy-dtype arrays (records, fixed-length strings, datetimes) with the reference and
print them as JSON in the form of __test__/fixtures/numpy-dtypes/expected.json.

Usage:
    numpy_read.py zarr <store>                 # one array, read by zarr-python
    numpy_read.py anndata <store> <uns path>   # an element of adata.uns, read by anndata
                                               # (path like rank_genes_groups/names)
    numpy_read.py batch < requests.json        # many: a JSON list of argument lists like the
                                               # two above; prints a list, each entry the read
                                               # or {"error": message} (one interpreter start)
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


def read(kind: str, store: str, path: str | None = None) -> dict:
    if kind == "zarr":
        import zarr

        arr = zarr.open_array(store, mode="r")[...]
    else:
        import anndata as ad

        elem = ad.read_zarr(store).uns
        for part in (path or "").split("/"):
            elem = elem[part]
        arr = np.asarray(elem)
    return describe(arr)


def main() -> None:
    if sys.argv[1] == "batch":
        out = []
        for req in json.load(sys.stdin):
            try:
                out.append(read(*req))
            except Exception as e:  # one bad store must not hide the others' reads
                out.append({"error": f"{type(e).__name__}: {e}"})
        print(json.dumps(out, ensure_ascii=False))
        return
    print(json.dumps(read(*sys.argv[1:4]), ensure_ascii=False))


if __name__ == "__main__":
    main()
