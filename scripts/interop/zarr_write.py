#!/usr/bin/env python3
"""Write one array with zarr-python 3 from a JSON spec (the other interop direction).

Usage:
    python scripts/interop/zarr_write.py <spec.json>      (or "-" for stdin)

spec:
  {
    "store": "<dir>",                 # created if missing
    "path": "<array path or ''>",     # parent groups are created as needed
    "zarr_format": 2 | 3,
    "shape": [...],
    "dtype": "bool|int8..int64|uint8..uint64|float16|float32|float64|string",
    "chunks": [...],
    "shards": [...] | null,           # v3 only
    "compressor": "zstd" | "blosc" | "gzip" | "zlib" | null,
    "fill_value": <json> | null,      # null -> zarr-python default; "NaN"/"Infinity"/"-Infinity" ok
    "values": [...],                  # flat, C order (null -> write nothing)
    # optional:
    "order": "C" | "F",               # v2 only
    "attrs": {...},
    "dimension_names": [...],         # v3 only
    "overwrite": true,                # default true
    "consolidate": false              # run zarr.consolidate_metadata on the store root afterwards
  }
Prints {"ok": true, "metadata": {...}} on success; exit 1 + stderr message on failure.
"""

from __future__ import annotations

import json
import sys
import warnings

# scripts/interop is sys.path[0] when one of these scripts is run directly
from _common import jsonable, run_main

DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "string",
}
SPECIAL_FLOATS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def parse_value(v, dtype: str):
    if dtype.startswith("float") and isinstance(v, str):
        return SPECIAL_FLOATS[v]
    return v


def compressors_for(name, zarr_format: int):
    if name is None:
        return None
    if zarr_format == 2:
        import numcodecs

        table = {
            "zstd": lambda: numcodecs.Zstd(level=3),
            "blosc": lambda: numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
            "gzip": lambda: numcodecs.GZip(level=5),
            "zlib": lambda: numcodecs.Zlib(level=5),
        }
    else:
        from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

        table = {
            "zstd": lambda: ZstdCodec(level=3),
            "blosc": lambda: BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),
            "gzip": lambda: GzipCodec(level=5),
        }
    if name not in table:
        raise ValueError(f"unsupported compressor {name!r} for zarr_format {zarr_format}")
    return table[name]()


def write(spec: dict) -> dict:
    import numpy as np
    import zarr

    zarr_format = int(spec["zarr_format"])
    dtype = spec["dtype"]
    if dtype not in DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}")
    shape = tuple(spec["shape"])
    path = (spec.get("path") or "").strip("/")
    shards = spec.get("shards")
    if shards is not None and zarr_format != 3:
        raise ValueError("shards are only supported for zarr_format 3")

    kwargs = dict(
        shape=shape,
        chunks=tuple(spec["chunks"]),
        dtype=str if dtype == "string" else dtype,
        zarr_format=zarr_format,
        compressors=compressors_for(spec.get("compressor"), zarr_format),
        overwrite=spec.get("overwrite", True),
    )
    if shards is not None:
        kwargs["shards"] = tuple(shards)
    if spec.get("fill_value") is not None:
        kwargs["fill_value"] = parse_value(spec["fill_value"], dtype)
    if spec.get("attrs"):
        kwargs["attributes"] = spec["attrs"]
    if spec.get("dimension_names") is not None:
        kwargs["dimension_names"] = spec["dimension_names"]
    if zarr_format == 2:
        kwargs["order"] = spec.get("order", "C")

    store = zarr.storage.LocalStore(spec["store"])
    arr = zarr.create_array(store, name=path or None, **kwargs)

    values = spec.get("values")
    if values is not None:
        if dtype == "string":
            data = np.array([str(v) for v in values], dtype=object)
        else:
            data = np.array([parse_value(v, dtype) for v in values], dtype=dtype)
        n = int(np.prod(shape)) if shape else 1
        if data.size != n:
            raise ValueError(f"values has {data.size} elements, shape {list(shape)} needs {n}")
        arr[...] = data.reshape(shape)

    if spec.get("consolidate"):
        zarr.consolidate_metadata(store, zarr_format=zarr_format)
    return arr.metadata.to_dict()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: zarr_write.py <spec.json | ->", file=sys.stderr)
        return 2
    try:
        if argv[1] == "-":
            spec = json.load(sys.stdin)
        else:
            with open(argv[1], encoding="utf-8") as f:
                spec = json.load(f)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
            md = write(spec)
    except Exception as e:  # noqa: BLE001
        print(f"zarr_write: zarr-python failed to write: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    json.dump({"ok": True, "metadata": jsonable(md)}, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    run_main(main)
