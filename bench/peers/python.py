"""Array benchmark peer for the Python implementations, one process per peer and variant, speaking
the protocol of bench/README.md (spec JSON in, results JSON on stdout).

    python bench/peers/python.py <zarr-python|zarrs-python|tensorstore> <spec.json>

Thread budget: `threads` from the spec (zarr's threading.max_workers, RAYON_NUM_THREADS for
zarrs-python, tensorstore's data_copy / file_io concurrency limits).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version

import numpy as np


def peak_rss_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS counter so each operation reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def grid_cells(shape, cell):
    counts = [-(-s // c) for s, c in zip(shape, cell)]
    for idx in np.ndindex(*counts):
        start = [i * c for i, c in zip(idx, cell)]
        yield start, [min(c, s - st) for c, s, st in zip(cell, shape, start)]


def region(start, shape):
    return tuple(slice(s, s + n) for s, n in zip(start, shape))


class ZarrPython:
    """zarr-python's default pipeline, or the zarrs-python codec pipeline with `zarrs=True`."""

    def __init__(self, threads: int, zarrs: bool) -> None:
        import zarr

        cfg = {"threading.max_workers": threads}
        if zarrs:
            import zarrs

            cfg["codec_pipeline.path"] = "zarrs.ZarrsCodecPipeline"
            cfg["codec_pipeline.direct_io"] = False
            self.version = f"zarr {version('zarr')} + zarrs {version('zarrs')}"
        else:
            self.version = f"zarr {version('zarr')}"
        zarr.config.set(cfg)
        self.zarr = zarr

    def open(self, path, write=False):
        return self.zarr.open_array(path, mode="r+" if write else "r")

    def read(self, a, start, shape):
        return a[region(start, shape)]

    def read_all(self, a):
        return a[...]

    def read_point(self, a, point):
        return a[tuple(point)]

    def write_all(self, a, data):
        a[...] = data


class TensorStore:
    def __init__(self, threads: int) -> None:
        import tensorstore as ts

        self.ts = ts
        self.version = f"tensorstore {version('tensorstore')}"
        self.context = ts.Context(
            {
                "data_copy_concurrency": {"limit": threads},
                "file_io_concurrency": {"limit": threads},
                # No cache: every peer decodes what it reads, like the others.
                "cache_pool": {"total_bytes_limit": 0},
            }
        )

    def open(self, path, write=False):
        spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}
        return self.ts.open(spec, context=self.context, open=True, read=True, write=write).result()

    def read(self, a, start, shape):
        return a[region(start, shape)].read().result()

    def read_async(self, a, start, shape):
        return a[region(start, shape)].read()

    def read_all(self, a):
        return a.read().result()

    def read_point(self, a, point):
        return a[tuple(point)].read().result()

    def write_all(self, a, data):
        a.write(data).result()


def checksum(data) -> int:
    return int(np.asarray(data).sum(dtype=np.uint64))


def main() -> None:
    peer, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    threads = spec["threads"]
    if peer == "tensorstore":
        impl = TensorStore(threads)
    elif peer in ("zarr-python", "zarrs-python"):
        impl = ZarrPython(threads, zarrs=peer == "zarrs-python")
    else:
        raise SystemExit(f"unknown python peer {peer!r}")
    shape = spec["shape"]

    def cells_read(a, cell, concurrency, check):
        cells = list(grid_cells(shape, cell))
        if concurrency == 1:
            datas = (impl.read(a, s, n) for s, n in cells)
            return sum(checksum(d) if check else 0 for d in datas)
        if hasattr(impl, "read_async"):
            # tensorstore: keep `concurrency` futures in flight, no extra Python threads.
            total, pending = 0, []
            for s, n in cells:
                pending.append(impl.read_async(a, s, n))
                if len(pending) >= concurrency:
                    d = pending.pop(0).result()
                    total += checksum(d) if check else 0
            for p in pending:
                d = p.result()
                total += checksum(d) if check else 0
            return total
        with ThreadPoolExecutor(concurrency) as ex:
            datas = ex.map(lambda c: impl.read(a, *c), cells)
            return sum(checksum(d) if check else 0 for d in datas)

    def timed_each(items, fn, check, lat):
        total = 0
        for it in items:
            t = time.perf_counter()
            v = fn(it)
            if lat is not None:
                lat.append(time.perf_counter() - t)
            if check:
                total += checksum(v)
        return total

    block = [spec["block"]] * len(shape)
    inner = spec.get("inner") or spec["chunk"]
    state = {}
    ops = {
        "write": lambda a, c, t, lat: (impl.write_all(a, state["input"]), checksum(state["input"]) if c else 0)[1],
        "read_all": lambda a, c, t, lat: checksum(impl.read_all(a)) if c else (impl.read_all(a), 0)[1],
        "round_trip": lambda a, c, t, lat: round_trip(a, t, c),
        "chunks_1": lambda a, c, t, lat: cells_read(a, spec["chunk"], 1, c),
        "chunks_2": lambda a, c, t, lat: cells_read(a, spec["chunk"], 2, c),
        "inner_1": lambda a, c, t, lat: cells_read(a, inner, 1, c),
        "inner_2": lambda a, c, t, lat: cells_read(a, inner, 2, c),
        "random": lambda a, c, t, lat: timed_each(spec["random"], lambda s: impl.read(a, s, block), c, lat),
        "single": lambda a, c, t, lat: timed_each(spec["points"], lambda p: impl.read_point(a, p), c, lat),
    }

    def round_trip(a, target, check):
        data = impl.read_all(a)
        impl.write_all(target, data)
        return checksum(data) if check else 0

    results = {}
    for op in spec["ops"]:
        if op not in ops:
            results[op] = {"error": f"unknown operation {op!r}"}
            continue
        try:
            if op == "write":
                state["input"] = np.fromfile(spec["input"], dtype="<u2").reshape(shape)
            gc.collect()
            reset_peak_rss()
            a = impl.open(spec["writeTarget"] if op == "write" else spec["store"], write=op == "write")
            target = impl.open(spec["roundTripTarget"], write=True) if op == "round_trip" else None
            # `once` (whole-process timing): the one run does only the operation, no checksum pass.
            check = ops[op](a, not spec.get("once"), target, None)
            ms, lat = [], []
            for _ in range(0 if spec.get("once") else spec["repeats"]):
                gc.collect()
                t = time.perf_counter()
                ops[op](a, False, target, lat)
                ms.append((time.perf_counter() - t) * 1e3)
            r = {"ms": ms, "checksum": str(check), "peakRssKiB": peak_rss_kib()}
            if lat:
                lat.sort()
                r["p50Us"] = lat[min(len(lat) - 1, len(lat) // 2)] * 1e6
                r["p99Us"] = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e6
            results[op] = r
        except Exception as e:  # noqa: BLE001 - a peer's failure is reported, not fatal
            results[op] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
        state.pop("input", None)
    print(json.dumps({"peer": peer, "version": impl.version, "threads": threads, "ops": results}))


if __name__ == "__main__":
    main()
