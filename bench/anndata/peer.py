"""One python anndata benchmark peer in a fresh process: load the source (untimed), then time
one write (anndata's zarr v3 defaults: sharded, consolidated) or one full read. Prints JSON.

    python bench/anndata/peer.py write|read SOURCE_OR_STORE [OUT] [--zarrs] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("op", choices=["write", "read"])
    p.add_argument("store")
    p.add_argument("out", nargs="?")
    p.add_argument("--zarrs", action="store_true", help="use the zarrs-python codec pipeline")
    p.add_argument(
        "--no-zarrs",
        action="store_true",
        help="zarr's own pipeline, as anndata >= 0.13 picks it when zarrs is not installed",
    )
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    import anndata as ad
    import zarr

    cfg = {"threading.max_workers": a.threads}
    if a.zarrs:
        import zarrs  # noqa: F401  (registers the pipeline)

        cfg["codec_pipeline.path"] = "zarrs.ZarrsCodecPipeline"
        cfg["codec_pipeline.direct_io"] = False
    elif a.no_zarrs:
        # anndata >= 0.13 switches to zarrs by itself when it is importable and the pipeline is
        # zarr's default; naming zarr's fused pipeline (its choice without zarrs) keeps it off
        cfg["codec_pipeline.path"] = "zarr.core.codec_pipeline.FusedCodecPipeline"
    zarr.config.set(cfg)

    if a.op == "write":
        adata = ad.read_zarr(a.store)
        ad.settings.zarr_write_format = 3
        t = time.perf_counter()
        adata.write_zarr(a.out)
        secs = time.perf_counter() - t
    else:
        t = time.perf_counter()
        adata = ad.read_zarr(a.store)
        secs = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"ms": secs * 1000, "peakRss": rss, "nnz": int(adata.X.nnz), "anndata": ad.__version__}))


if __name__ == "__main__":
    main()
