#!/usr/bin/env python3
"""Write zarr v2 arrays and groups with zarr-python (3.4.2 in .venv-anndata-0.13), so a test
can compare the metadata documents we write with the reference's byte for byte.

Usage:
    python scripts/interop/zarr_v2_reference.py <store_dir> < [spec, ...]

spec: {"path", "shape", "chunks", "dtype" (numpy name or "string"), "fill_value"
       (number, bool, "NaN", "Infinity", "-Infinity" or null), "compressor" ({"id": ..., ...}
       numcodecs config, or null), "order", "attributes"}
A group `g` with attributes {"k": "v"} is written first, the arrays under it, then the
metadata is consolidated at the root. stdout: {"zarr": zarr.__version__}.
"""

from __future__ import annotations

import json
import sys

from _common import print_json, run_main


def main(argv: list[str]) -> int:
    import numcodecs
    import zarr

    specs = json.load(sys.stdin)
    root = zarr.open_group(argv[1], mode="w", zarr_format=2)
    g = root.create_group("g", attributes={"k": "v", "unicode": "é"})
    for s in specs:
        fill = s["fill_value"]
        if isinstance(fill, str) and s["dtype"] != "string":
            fill = float(fill.replace("Infinity", "inf"))
        g.create_array(
            s["path"],
            shape=s["shape"],
            chunks=s["chunks"],
            dtype=str if s["dtype"] == "string" else s["dtype"],
            fill_value=fill,
            compressors=numcodecs.get_codec(s["compressor"]) if s["compressor"] else None,
            order=s["order"],
            attributes=s["attributes"],
        )
    zarr.consolidate_metadata(argv[1])
    return print_json({"zarr": zarr.__version__})


if __name__ == "__main__":
    run_main(main)
