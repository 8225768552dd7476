"""Pieces shared by the zarr-python interop scripts in this folder and by
scripts/fixtures/zarr_python_arrays.py: strict-JSON conversion of numpy/zarr
values and the exit path of a script's ``main``."""

from __future__ import annotations

import math
import os
import json
import sys


def json_scalar(x):
    """One value -> strict JSON: numpy scalars to Python, NaN/Infinity as the
    strings "NaN"/"Infinity"/"-Infinity", bytes decoded as UTF-8."""
    import numpy as np

    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(x, (bytes, np.bytes_)):
        return x.decode("utf-8", errors="backslashreplace")
    if isinstance(x, (str, np.str_)):
        return str(x)
    if isinstance(x, int):
        return x
    return str(x)


def jsonable(o):
    """Make a metadata dict JSON-serialisable (numpy scalars, NaN, tuples)."""
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, (str, bool)) or o is None:
        return o
    if isinstance(o, int):
        return o
    try:
        return json_scalar(o)
    except Exception:
        return str(o)


def print_json(obj) -> int:
    """Write one JSON document (strict: no NaN literals) and a newline to stdout; exit code 0."""
    json.dump(obj, sys.stdout, ensure_ascii=False, allow_nan=False)
    sys.stdout.write("\n")
    return 0


def run_main(main) -> None:
    """``if __name__ == "__main__": run_main(main)``: exit with ``main(sys.argv)``'s status."""
    code = main(sys.argv)
    if code:
        # skip interpreter teardown: zarr-python's event loop thread otherwise
        # dumps "Task was destroyed but it is pending!" noise after a failure
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(0)
