"""One python conversion peer of bench/convert.mjs in a fresh process: read an AnnData (h5ad or
zarr) with python anndata and write it as sharded zarr v3 with the zarrs-python codec pipeline.
Prints one JSON line; the driver measures wall time and peak RSS of the whole process.

    python bench/convert_peer.py defaults|recipe INPUT OUTPUT [--threads 2]
    python bench/convert_peer.py check STORE

check: what the driver compares across outputs: the stored non-zeros of X, its number of rows,
       whether X/data is sharded (reads metadata only; an .h5ad input is read with h5py).

defaults: `write_zarr` as anndata 0.13 ships it (zarr v3, `settings.auto_shard_zarr_v3`).
recipe:   the sharded write of anndata's zarr v3 guide: `experimental.write_dispatched` with a
          callback giving dense arrays shards of 2^16 elements (chunks half as long on each axis)
          and sparse data/indices shards of 2^16 (chunks 2^8); then consolidated, like ours.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings


def write_recipe(ad, zarr, adata, out: str) -> None:
    def callback(func, group, key, elem, dataset_kwargs, iospec):
        if iospec.encoding_type == "array":
            shards = tuple(int(2 ** (16 / len(elem.shape))) for _ in elem.shape)
            dataset_kwargs = {"shards": shards, **dataset_kwargs}
            dataset_kwargs["chunks"] = tuple(s // 2 for s in dataset_kwargs["shards"])
        elif iospec.encoding_type in {"csr_matrix", "csc_matrix"}:
            dataset_kwargs = {"shards": (2**16,), "chunks": (2**8,), **dataset_kwargs}
        func(group, key, elem, dataset_kwargs=dataset_kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the setting goes away in 0.14
        ad.settings.auto_shard_zarr_v3 = False  # the callback decides every shard
    group = zarr.open_group(out, mode="w", zarr_format=3)
    ad.experimental.write_dispatched(group, "/", adata, callback=callback)
    zarr.consolidate_metadata(out)


def check(zarr, store: str) -> dict:
    if store.endswith(".h5ad"):
        import h5py

        with h5py.File(store, "r") as f:
            return {"nnz": f["X"]["data"].shape[0], "nObs": int(f["X"].attrs["shape"][0]), "sharded": False}
    group = zarr.open_group(store, mode="r")
    data = group["X"]["data"]
    return {
        "nnz": data.shape[0],
        "nObs": group["X"].attrs["shape"][0],
        "sharded": getattr(data, "shards", None) is not None,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["defaults", "recipe", "check"])
    p.add_argument("input")
    p.add_argument("output", nargs="?")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    import anndata as ad
    import zarr
    import zarrs

    if a.mode == "check":
        print(json.dumps(check(zarr, a.input)))
        return
    zarr.config.set({"threading.max_workers": a.threads, "codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
    ad.settings.zarr_write_format = 3

    t0 = time.perf_counter()
    adata = ad.read_h5ad(a.input) if a.input.endswith(".h5ad") else ad.read_zarr(a.input)
    t1 = time.perf_counter()
    if a.mode == "defaults":
        adata.write_zarr(a.output)
    else:
        write_recipe(ad, zarr, adata, a.output)
    t2 = time.perf_counter()
    versions = {"anndata": ad.__version__, "zarr": zarr.__version__, "zarrs": zarrs.__version__}
    print(json.dumps({"readSeconds": t1 - t0, "writeSeconds": t2 - t1, "seconds": t2 - t0, **versions}))


if __name__ == "__main__":
    main()
