#!/usr/bin/env python3
"""Read an AnnData Zarr store with python anndata and write it again with
anndata (``AnnData.write_zarr`` with the version's defaults: consolidated,
strings_to_categoricals, 0.13: auto-sharded v3).

Usage:
    python scripts/interop/anndata_rewrite.py <in> <out> [--zarr-format 2|3] [--setting NAME=VALUE ...]

--zarr-format sets anndata.settings.zarr_write_format (default: the version's
default, 0.12: 2, 0.13: 3). --setting overrides any other anndata setting for
the write, VALUE parsed as JSON (e.g. allow_write_nullable_strings=true, which
anndata 0.12 needs to write nullable string arrays). <out> is replaced.

stdout: {"anndataVersion", "zarrFormat", "consolidated", "encodings": {...}}
  encodings: as scripts/interop/anndata_encodings.py, for <out>.
Exit status 1 with a message on stderr on failure.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _common import run_main
from anndata_dump_lib import anndata_version, dump_encodings, parse_settings, run_cli, store_info


def rewrite(src: str, dst: str, zarr_format: int | None, settings: dict) -> dict:
    import anndata as ad

    adata = ad.read_zarr(src)
    if zarr_format is not None:
        settings = {"zarr_write_format": zarr_format, **settings}
    shutil.rmtree(dst, ignore_errors=True)
    with ad.settings.override(**settings):
        adata.write_zarr(dst)
    return {"anndataVersion": anndata_version(), **store_info(dst), "encodings": dump_encodings(dst)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="anndata_rewrite.py")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--zarr-format", type=int, choices=[2, 3])
    p.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    args = p.parse_args(argv[1:])
    try:
        settings = parse_settings(args.setting)
    except ValueError as e:
        print(f"anndata_rewrite: {e}", file=sys.stderr)
        return 2
    return run_cli("anndata_rewrite", lambda: rewrite(args.src, args.dst, args.zarr_format, settings))


if __name__ == "__main__":
    run_main(main)
