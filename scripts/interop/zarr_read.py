#!/usr/bin/env python3
"""Read one array with zarr-python 3 and print it as a single JSON object.

Usage:
    python scripts/interop/zarr_read.py <store_dir> [<array_path>]
    python scripts/interop/zarr_read.py --batch < [{"store": ..., "path": ...}, ...]

stdout: {"zarr_format", "shape", "dtype", "fill_value", "chunks", "shards",
         "order", "attrs", "dimension_names", "metadata", "values"}
  - dtype is one of bool int8 int16 int32 int64 uint8 uint16 uint32 uint64
    float16 float32 float64 string (anything else: "other:<zarr name>")
  - values: all elements flattened in C (row-major) order; NaN/Infinity as the
    strings "NaN"/"Infinity"/"-Infinity"
  - metadata: the array metadata document exactly as zarr-python parsed it
Exit status 1 with a message on stderr if zarr-python cannot open or read it.
"""

from __future__ import annotations

import json
import sys
import warnings

# scripts/interop is sys.path[0] when one of these scripts is run directly
from _common import print_json, json_scalar, jsonable, run_main


def normalize_dtype(arr) -> str:
    import numpy as np

    dt = np.dtype(arr.dtype)
    if dt.kind == "b":
        return "bool"
    if dt.kind in "iuf" and dt.name in {
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64",
    }:
        return dt.name
    md = arr.metadata.to_dict()
    name = md.get("data_type") if arr.metadata.zarr_format == 3 else md.get("dtype")
    if arr.metadata.zarr_format == 3 and name == "string":
        return "string"
    if arr.metadata.zarr_format == 2 and dt.kind in "OT":
        filters = md.get("filters") or []
        if any(isinstance(f, dict) and f.get("id") == "vlen-utf8" for f in filters):
            return "string"
    if dt.kind in "OTU":
        return "string"
    return f"other:{name}"


def read(store_dir: str, array_path: str) -> dict:
    import numpy as np
    import zarr

    store = zarr.storage.LocalStore(store_dir, read_only=True)
    arr = zarr.open_array(store, path=array_path, mode="r")
    data = np.asarray(arr[...])
    dtype = normalize_dtype(arr)
    flat = data.reshape(-1, order="C")
    if dtype == "string":
        values = [str(x) for x in flat]
    else:
        values = [json_scalar(x) for x in flat]
    md = arr.metadata
    dim_names = getattr(md, "dimension_names", None)
    return {
        "zarr_format": md.zarr_format,
        "shape": list(arr.shape),
        "dtype": dtype,
        "fill_value": json_scalar(arr.fill_value),
        "chunks": list(arr.chunks),
        "shards": list(arr.shards) if arr.shards is not None else None,
        "order": md.order if md.zarr_format == 2 else "C",
        "attrs": jsonable(dict(arr.attrs)),
        "dimension_names": list(dim_names) if dim_names is not None else None,
        "metadata": jsonable(md.to_dict()),
        "values": values,
    }


def batch() -> int:
    """`--batch`: stdin is a JSON list of {"store", "path"}; stdout a JSON list with one result
    (as above) or {"error": "..."} per item, so a test pays Python's start-up once."""
    out = []
    for item in json.load(sys.stdin):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(read(item["store"], item.get("path", "").strip("/")))
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}"})
    return print_json(out)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--batch"]:
        return batch()
    if len(argv) not in (2, 3):
        print("usage: zarr_read.py <store_dir> [<array_path>]", file=sys.stderr)
        return 2
    store_dir = argv[1]
    array_path = argv[2] if len(argv) == 3 else ""
    array_path = array_path.strip("/")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = read(store_dir, array_path)
        for w in caught:
            print(f"zarr_read: warning: {w.category.__name__}: {w.message}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - any failure means "zarr-python can't read it"
        print(
            f"zarr_read: zarr-python could not read array {array_path!r} in {store_dir!r}: "
            f"{type(e).__name__}: {e}",
            file=sys.stderr,
        )
        return 1
    return print_json(result)


if __name__ == "__main__":
    run_main(main)
