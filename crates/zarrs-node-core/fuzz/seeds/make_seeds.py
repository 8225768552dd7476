"""Writes the tiny seed corpora of the fuzz targets (run with the repo's .venv: zarr 3.1.6).

Each seed is one real document or shard written by zarr-python, in the framing its target
expects (see fuzz_targets/*.rs): a selector byte, then the document, 0xff, then chunk bytes.
"""

import json
import pathlib
import tempfile

import numpy as np
import zarr

HERE = pathlib.Path(__file__).parent


def seed(target: str, name: str, data: bytes) -> None:
    d = HERE / target
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data)


with tempfile.TemporaryDirectory() as tmp:
    root = pathlib.Path(tmp)
    # v3 sharded uint16 (8, 4), inner chunks 2x2, shards 4x4, no compression: the shard_index
    # target's layout; its zarr.json seeds the metadata target.
    a = zarr.create_array(
        root / "v3", shape=(8, 4), dtype="uint16", chunks=(2, 2), shards=(4, 4),
        compressors=None, zarr_format=3,
    )
    a[:] = np.arange(32, dtype="uint16").reshape(8, 4)
    shard = (root / "v3" / "c" / "0" / "0").read_bytes()
    seed("shard_index", "shard-4x4", shard)
    seed("metadata", "v3-sharded", b"\x00" + (root / "v3" / "zarr.json").read_bytes() + b"\xff" + shard)
    # v3 vlen-utf8 strings
    s = zarr.create_array(root / "s3", shape=(2,), dtype=str, chunks=(2,), compressors=None, zarr_format=3)
    s[:] = np.array(["ab", "xyz"], dtype=object)
    seed("metadata", "v3-strings", b"\x00" + (root / "s3" / "zarr.json").read_bytes() + b"\xff" + (root / "s3" / "c" / "0").read_bytes())
    # v2 object strings (vlen-utf8 filter) and a consolidated v2 group
    g = zarr.open_group(root / "v2", mode="w", zarr_format=2)
    g.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
    s2 = g.create_array("a", shape=(2,), dtype=str, chunks=(2,), compressors=None)
    s2[:] = np.array(["ab", "xyz"], dtype=object)
    seed("metadata", "v2-strings", b"\x01" + (root / "v2" / "a" / ".zarray").read_bytes() + b"\xff" + (root / "v2" / "a" / "0").read_bytes())
    zarr.consolidate_metadata(root / "v2")
    seed("metadata", "v2-zmetadata", b"\x02" + (root / "v2" / ".zmetadata").read_bytes())

seed("attributes", "anndata-v2", b"\x00" + json.dumps({"encoding-type": "anndata", "encoding-version": "0.1.0"}).encode())
seed("attributes", "dataframe-v3", b"\x01" + json.dumps({
    "_index": "_index", "column-order": ["a", "b"], "encoding-type": "dataframe", "encoding-version": "0.2.0",
}).encode())
seed("selection", "basic", bytes(range(64)))
