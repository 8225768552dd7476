#!/usr/bin/env python3
"""Compare two AnnData objects with python anndata's own test helper,
``anndata.tests.helpers.assert_equal`` (needs pytest, pinned in the 0.13 venv).

Usage:
    python scripts/interop/anndata_assert_equal.py <expected> <actual> [--drop PATH ...]

<expected> and <actual>: Zarr stores (read with ``anndata.read_zarr``) or
``.h5ad`` files (``anndata.read_h5ad``). --drop deletes an element (store path,
e.g. ``uns/rank_genes_groups/names``) from both objects first.
--strings-as-object: turn pandas ``str`` columns of obs/var into ``object`` on
both sides first. anndata 0.13.4 reads a ``string-array`` dataframe column from
.h5ad as pandas ``str`` but the same encoding from zarr as ``object``; the values
are compared either way.

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


def _strings_as_object(adata) -> None:
    import pandas as pd

    for df in (adata.obs, adata.var):
        for c in df.columns:
            if pd.api.types.is_string_dtype(df[c].dtype) and not isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(object)


def compare(expected: str, actual: str, drop: list[str], strings_as_object: bool = False) -> dict:
    from anndata.tests.helpers import assert_equal

    a, b = read(expected), read(actual)
    if strings_as_object:
        _strings_as_object(a)
        _strings_as_object(b)
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
    p.add_argument("--strings-as-object", action="store_true")
    args = p.parse_args(argv[1:])
    return run_cli(
        "anndata_assert_equal",
        lambda: compare(args.expected, args.actual, args.drop, args.strings_as_object),
    )


if __name__ == "__main__":
    run_main(main)
