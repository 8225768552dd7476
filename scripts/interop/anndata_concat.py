#!/usr/bin/env python3
"""Concatenate AnnData Zarr stores along obs with python anndata's ``concat``
(``anndata.concat([read_zarr(s) for s in stores], join=...)``) and print the
canonical dump of the result.

Usage (needs .venv-anndata-0.13):
    python scripts/interop/anndata_concat.py < {"stores": [path, ...], "join": "inner" | "outer"}
stdout: {"anndataVersion": ..., "dump": Dump}
  Dump: see scripts/interop/README.md ("Canonical AnnData dump").
"""

from __future__ import annotations

import json
import sys
import warnings

from _common import print_json, run_main
from anndata_dump_lib import anndata_version, dump_anndata


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: anndata_concat.py < request.json", file=sys.stderr)
        return 2
    import anndata as ad

    req = json.load(sys.stdin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joined = ad.concat([ad.read_zarr(s) for s in req["stores"]], join=req["join"])
    return print_json({"anndataVersion": anndata_version(), "dump": dump_anndata(joined)})


if __name__ == "__main__":
    run_main(main)
