#!/usr/bin/env python3
"""Compare two AnnData objects with python anndata's own test helper,
``anndata.tests.helpers.assert_equal`` (needs pytest, pinned in the 0.13 venv).

Usage:
    python scripts/interop/anndata_assert_equal.py <expected> <actual> [--drop PATH ...]

<expected> and <actual>: Zarr stores (read with ``anndata.read_zarr``) or
``.h5ad`` files (``anndata.read_h5ad``). --drop deletes an element (store path,
e.g. ``uns/rank_genes_groups/names``) from both objects first.

stdout: {"anndataVersion", "equal": true}
Exit status 1 with assert_equal's message on stderr when they differ.
"""

from __future__ import annotations

import argparse

from _common import run_main
from anndata_dump_lib import anndata_version, drop_elements, run_cli


def read(path: str):
    import anndata as ad

    return ad.read_h5ad(path) if path.endswith(".h5ad") else ad.read_zarr(path)


def compare(expected: str, actual: str, drop: list[str]) -> dict:
    from anndata.tests.helpers import assert_equal

    a, b = read(expected), read(actual)
    drop_elements(a, drop)
    drop_elements(b, [p for p in drop if _has(b, p)])
    assert_equal(a, b)
    return {"anndataVersion": anndata_version(), "equal": True}


def _has(adata, path: str) -> bool:
    first, *keys = path.strip("/").split("/")
    node = getattr(adata, first)
    for k in keys:
        if k not in node:
            return False
        node = node[k]
    return True


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="anndata_assert_equal.py")
    p.add_argument("expected")
    p.add_argument("actual")
    p.add_argument("--drop", action="append", default=[], metavar="PATH")
    args = p.parse_args(argv[1:])
    return run_cli("anndata_assert_equal", lambda: compare(args.expected, args.actual, args.drop))


if __name__ == "__main__":
    run_main(main)
