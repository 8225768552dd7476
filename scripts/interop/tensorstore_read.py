#!/usr/bin/env python3
"""Read arrays with tensorstore (a second, independent reader of what we write).

Usage (run with .venv-anndata-0.13, which pins tensorstore):
    python scripts/interop/tensorstore_read.py < [{"store": ..., "path": ..., "zarr_format": 2|3}, ...]

stdout: a list, one entry per request: {"dtype", "shape", "values"} (values flattened in C
order, NaN/Infinity as strings, strings as str) or {"error": "..."} when tensorstore refuses
the array (the message is what a test reports).
"""

from __future__ import annotations

import json
import sys

from _common import json_scalar, print_json, run_main


def read_one(req: dict) -> dict:
    import numpy as np
    import tensorstore as ts

    driver = "zarr" if req["zarr_format"] == 2 else "zarr3"
    try:
        arr = ts.open(
            {
                "driver": driver,
                "kvstore": {"driver": "file", "path": req["store"]},
                "path": req["path"],
            },
            open=True,
        ).result()
        data = arr.read().result()
    except Exception as e:  # noqa: BLE001 - the message is the result
        return {"error": f"{type(e).__name__}: {e}"}
    flat = np.asarray(data).reshape(-1)
    return {
        "dtype": str(arr.dtype.numpy_dtype),
        "shape": list(arr.shape),
        "values": [json_scalar(x) for x in flat.tolist()],
    }


def main(argv: list[str]) -> int:
    return print_json([read_one(r) for r in json.load(sys.stdin)])


if __name__ == "__main__":
    run_main(main)
