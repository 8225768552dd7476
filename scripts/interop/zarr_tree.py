#!/usr/bin/env python3
"""List every node of a Zarr hierarchy as zarr-python 3 sees it.

Usage:
    python scripts/interop/zarr_tree.py <store_dir>

stdout (one JSON object):
  {
    "zarr_format": 2 | 3,
    "root_kind": "group" | "array",
    "has_consolidated": bool,            # root carries consolidated metadata
                                         # (v2 .zmetadata / v3 inline in zarr.json)
    "nodes": [ {path, kind, attrs, [zarr_format, shape, dtype, chunks, shards, fill_value]} ],
                                         # walked with use_consolidated=False (real store)
    "consolidated_nodes": [...] | null,  # walked with use_consolidated=True (from the
                                         # consolidated metadata only); null if unavailable
    "consolidated_error": "..." | null,  # why use_consolidated=True failed
    "consolidated_matches": bool | null  # consolidated view == real store view
  }
Nodes are sorted by path; the root is path "". Exit 1 + stderr message if
zarr-python cannot open the store at all.
"""

from __future__ import annotations

import sys
import warnings

# scripts/interop is sys.path[0] when one of these scripts is run directly
from _common import print_json, jsonable, run_main


def normalize_dtype(arr) -> str:
    import numpy as np

    dt = np.dtype(arr.dtype)
    if dt.kind == "b":
        return "bool"
    if dt.kind in "iuf":
        return dt.name
    if dt.kind in "OTU":
        return "string"
    return f"other:{dt}"


def describe(path: str, node) -> dict:
    import zarr

    d = {"path": path, "kind": "array" if isinstance(node, zarr.Array) else "group",
         "attrs": jsonable(dict(node.attrs)), "zarr_format": node.metadata.zarr_format}
    if d["kind"] == "array":
        d.update(
            shape=list(node.shape),
            dtype=normalize_dtype(node),
            chunks=list(node.chunks),
            shards=list(node.shards) if node.shards is not None else None,
            fill_value=jsonable(node.fill_value),
        )
    return d


def walk(store_dir: str, use_consolidated: bool) -> list[dict]:
    import zarr

    store = zarr.storage.LocalStore(store_dir, read_only=True)
    root = zarr.open_group(store, mode="r", use_consolidated=use_consolidated)
    nodes = [describe("", root)]
    for path, node in root.members(max_depth=None):
        nodes.append(describe(path, node))
    nodes.sort(key=lambda n: n["path"])
    return nodes


def tree(store_dir: str) -> dict:
    import zarr

    store = zarr.storage.LocalStore(store_dir, read_only=True)
    root = zarr.open(store, mode="r")
    if isinstance(root, zarr.Array):
        return {
            "zarr_format": root.metadata.zarr_format,
            "root_kind": "array",
            "has_consolidated": False,
            "nodes": [describe("", root)],
            "consolidated_nodes": None,
            "consolidated_error": "root is an array",
            "consolidated_matches": None,
        }
    # default open (use_consolidated=None) picks consolidated metadata up if present
    has_consolidated = root.metadata.consolidated_metadata is not None
    nodes = walk(store_dir, use_consolidated=False)
    consolidated_nodes, consolidated_error = None, None
    try:
        consolidated_nodes = walk(store_dir, use_consolidated=True)
    except Exception as e:  # noqa: BLE001
        consolidated_error = f"{type(e).__name__}: {e}"
    return {
        "zarr_format": root.metadata.zarr_format,
        "root_kind": "group",
        "has_consolidated": has_consolidated,
        "nodes": nodes,
        "consolidated_nodes": consolidated_nodes,
        "consolidated_error": consolidated_error,
        "consolidated_matches": (consolidated_nodes == nodes) if consolidated_nodes is not None else None,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: zarr_tree.py <store_dir>", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = tree(argv[1])
    except Exception as e:  # noqa: BLE001
        print(f"zarr_tree: zarr-python could not open {argv[1]!r}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 1
    return print_json(result)


if __name__ == "__main__":
    run_main(main)
