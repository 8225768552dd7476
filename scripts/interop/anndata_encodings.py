#!/usr/bin/env python3
"""Print the encoding attributes of every node of a Zarr store (AnnData or not).

Usage:
    python scripts/interop/anndata_encodings.py <store> [--layout]

stdout: {"zarrFormat": 2|3, "consolidated": bool, "encodings": {"/": {...}, "/obs": {...}, ...}}
  per node: "node" ("group"|"array"), "encoding-type", "encoding-version"
  (null when absent), every other attribute (an awkward "form" parsed from its
  JSON text), and for arrays "dtype" and "shape"; --layout adds "chunks" and
  "shards" for arrays. The store is read without consolidated metadata.
Exit status 1 with a message on stderr if the store cannot be read.
"""

from __future__ import annotations

import sys

from _common import run_main
from anndata_dump_lib import dump_encodings, run_cli, store_info


def main(argv: list[str]) -> int:
    args = argv[1:]
    layout = "--layout" in args
    rest = [a for a in args if a != "--layout"]
    if len(rest) != 1 or rest[0].startswith("-"):
        print("usage: anndata_encodings.py <store> [--layout]", file=sys.stderr)
        return 2
    return run_cli(
        "anndata_encodings",
        lambda: {**store_info(rest[0]), "encodings": dump_encodings(rest[0], layout=layout)},
    )


if __name__ == "__main__":
    run_main(main)
