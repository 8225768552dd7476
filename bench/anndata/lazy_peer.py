"""Python anndata lazy-read benchmark measurements in a fresh process (the peer of
bench/anndata/lazy.mjs): per op, a fresh ``anndata.experimental.read_lazy`` (untimed unless the
op is ``open``), the op once; prints JSON {op: {ms, check, hwmKiB, rssBeforeKiB}}.

    python bench/anndata/lazy_peer.py '<spec json>'
    spec: {stores: {op: store}, ops: [open|column|rows|slice|single|view|iterate], rows, sliceRows,
           singleRows, genes, viewRows, batch, threads, zarrs}
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def status_kib(field: str) -> int:
    """VmRSS / VmHWM of this process from /proc/self/status, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def main() -> None:
    spec = json.loads(sys.argv[1])
    import dask
    import zarr
    from anndata.experimental import read_lazy

    pipeline = "zarrs.ZarrsCodecPipeline" if spec["zarrs"] else "zarr.core.codec_pipeline.BatchedCodecPipeline"
    if spec["zarrs"]:
        import zarrs  # noqa: F401  (registers the pipeline)
    zarr.config.set({"threading.max_workers": spec["threads"], "codec_pipeline.path": pipeline})
    dask.config.set(scheduler="threads", num_workers=spec["threads"])
    warnings.simplefilter("ignore")

    def opener(store: str):
        return lambda: read_lazy(zarr.open_group(store, mode="r") if store.startswith("http") else store)

    print(json.dumps({op: measure(op, opener(spec["stores"][op]), spec) for op in spec["ops"]}))


def measure(op: str, open_, spec: dict) -> dict:
    import numpy as np

    if op == "open":
        t = time.perf_counter()
        lazy = open_()
        return {"ms": (time.perf_counter() - t) * 1000, "check": int(lazy.n_obs), "hwmKiB": status_kib("VmHWM")}
    lazy = open_()
    rss0 = status_kib("VmRSS")
    t = time.perf_counter()
    if op == "column":
        check = float(np.asarray(lazy.obs["n_counts"].to_numpy(), dtype=np.float64).sum())
    elif op == "rows":
        check = float(lazy.X[np.asarray(spec["rows"])].compute().sum())
    elif op == "slice":
        check = float(lazy.X[slice(*spec["sliceRows"])].compute().sum())
    elif op == "single":
        # each row its own compute; the op's time is the median row's
        times, check = [], 0.0
        for r in spec["singleRows"]:
            t0 = time.perf_counter()
            check += float(lazy.X[r : r + 1].compute().sum())
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        return {"ms": times[len(times) // 2], "p90": times[int(len(times) * 0.9)], "check": check}
    elif op == "view":
        check = int(lazy[slice(*spec["viewRows"]), np.asarray(spec["genes"])].to_memory().X.nnz)
    elif op == "iterate":
        check = 0
        for start in range(0, lazy.n_obs, spec["batch"]):
            check += int(lazy[start : start + spec["batch"]].to_memory().X.nnz)
    else:
        raise ValueError(f"unknown op {op}")
    ms = (time.perf_counter() - t) * 1000
    return {"ms": ms, "check": check, "hwmKiB": status_kib("VmHWM"), "rssBeforeKiB": rss0}


if __name__ == "__main__":
    main()
