#!/usr/bin/env python3
"""Read selections of AnnData Zarr stores with python anndata's lazy reader
(``anndata.experimental.read_lazy(store)[obs, var].to_memory()``, which needs
xarray and dask) and print their canonical dumps.

Usage (needs .venv-anndata-0.13):
    python scripts/interop/anndata_read_lazy.py < [{"store": ..., "obs": Sel, "var": Sel}, ...]

  Sel: null (everything), {"slice": [start, stop, step]}, {"positions": [int, ...]}
  or {"mask": [bool, ...]}.
stdout: [{"anndataVersion": ..., "reader": "anndata read_lazy", "dump": Dump} or
         {"error": "..."}, ...], one per item, in order.
  Dump: see scripts/interop/README.md ("Canonical AnnData dump").
"""

from __future__ import annotations

import json
import sys
import warnings

from _common import print_json, run_main
from anndata_dump_lib import anndata_version, dump_anndata


def selection(sel):
    import numpy as np

    if sel is None:
        return slice(None)
    if "slice" in sel:
        return slice(*sel["slice"])
    if "positions" in sel:
        return np.asarray(sel["positions"], dtype=np.int64)
    if "mask" in sel:
        return np.asarray(sel["mask"], dtype=bool)
    raise ValueError(f"unknown selection {sel!r}")


def read(item: dict) -> dict:
    from anndata.experimental import read_lazy

    lazy = read_lazy(item["store"])
    view = lazy[selection(item.get("obs")), selection(item.get("var"))]
    return {"anndataVersion": anndata_version(), "reader": "anndata read_lazy", "dump": dump_anndata(view.to_memory())}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: anndata_read_lazy.py < items.json", file=sys.stderr)
        return 2
    out = []
    for item in json.load(sys.stdin):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(read(item))
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}"})
    return print_json(out)


if __name__ == "__main__":
    run_main(main)
