#!/usr/bin/env python3
"""Read an AnnData Zarr store with python anndata and print its canonical dump.

Usage:
    python scripts/interop/anndata_read.py <store> [--raw] [--skip-uns NAME ...]
    python scripts/interop/anndata_read.py --batch < [{"store": ..., "raw": false}, ...]

stdout: {"anndataVersion": "0.12.19", "reader": "anndata", "dump": Dump}
  Dump: see scripts/interop/README.md ("Canonical AnnData dump").
  --raw reads the store with zarr-python only, following the encoding
  attributes (anndata_dump_lib.dump_store); "reader" is then "zarr-python".
  --skip-uns NAME leaves uns[NAME] out of the dump (NAME may be a path: nested/scalar_str);
  for elements compared elsewhere, e.g. the rec-arrays of old archives.
  --batch: one result (as above) or {"error": "..."} per item, in order.
Exit status 1 with a message on stderr if the store cannot be read.
"""

from __future__ import annotations

import json
import sys
import warnings

from _common import print_json, run_main
from anndata_dump_lib import anndata_version, dump_anndata, dump_store, run_cli


def read(store: str, raw: bool = False, skip_uns: tuple[str, ...] = ()) -> dict:
    if raw:
        return {"anndataVersion": anndata_version(), "reader": "zarr-python", "dump": dump_store(store)}
    import anndata as ad

    adata = ad.read_zarr(store)
    for name in skip_uns:
        *parents, last = name.split("/")
        d = adata.uns
        for k in parents:
            d = d[k]
        del d[last]
    return {"anndataVersion": anndata_version(), "reader": "anndata", "dump": dump_anndata(adata)}


def batch() -> int:
    out = []
    for item in json.load(sys.stdin):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(read(item["store"], bool(item.get("raw", False))))
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}"})
    return print_json(out)


def main(argv: list[str]) -> int:
    args = argv[1:]
    if args == ["--batch"]:
        return batch()
    raw = "--raw" in args
    rest = [a for a in args if a != "--raw"]
    skip: list[str] = []
    while "--skip-uns" in rest:
        i = rest.index("--skip-uns")
        skip.extend(rest[i + 1 : i + 2])
        del rest[i : i + 2]
    if len(rest) != 1 or rest[0].startswith("-"):
        print("usage: anndata_read.py <store> [--raw] [--skip-uns NAME ...] | --batch", file=sys.stderr)
        return 2
    return run_cli("anndata_read", lambda: read(rest[0], raw, tuple(skip)))


if __name__ == "__main__":
    run_main(main)
