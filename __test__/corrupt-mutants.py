"""Structured mutants for corrupt-store.test.ts: corruptions that survive compression and
checksums, which random byte flips almost never produce. Each is re-encoded with the store's own
codecs (numcodecs, as zarr-python wrote them) so only the targeted field is wrong:

- vlen-prefix: one vlen-utf8 item length runs past the end of its (decoded) chunk; v2 chunks
  and v3 inner chunks inside shards
- shard-entry: a shard index entry whose offset + nbytes overflows u64, with a valid crc32c
- chunk-shape: a chunk (or inner chunk) shape whose size overflows: 2^62 per dimension, or
  2^64 - 1 for a 1-D array (2^62 one-byte elements would still fit)

usage: python corrupt-mutants.py <store> <out dir> <seed>  -> JSON list on stdout of
{file, what, replace}: `replace` holds the new bytes of `file` (relative to the store).
"""

import json
import pathlib
import random
import struct
import sys

import numcodecs
from numcodecs import CRC32C, Zstd

store, out, seed = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
mutants = []


def huge(ndim: int) -> list[int]:
    return [2**62] * ndim if ndim > 1 else [2**64 - 1] * ndim


def emit(file: pathlib.Path, what: str, data: bytes) -> None:
    path = out / f"mutant-{len(mutants)}"
    path.write_bytes(data)
    mutants.append({"file": file.relative_to(store).as_posix(), "what": what, "replace": str(path)})


def bad_prefix(raw: bytes) -> bytes:
    """vlen-utf8 is a u32 item count, then per item a u32 length and its bytes."""
    (n,) = struct.unpack_from("<I", raw, 0)
    at = 4
    for _ in range(rng.randrange(n)):
        (length,) = struct.unpack_from("<I", raw, at)
        at += 4 + length
    b = bytearray(raw)
    struct.pack_into("<I", b, at, rng.choice([0xFFFFFFFF, 0x7FFFFFFF, len(raw)]))
    return bytes(b)


def shard_entries(shard: bytes, n: int) -> list[int]:
    """The `[offset, nbytes]` pairs of a shard's index (bytes + crc32c, at the end)."""
    index = shard[-(n * 16 + 4):]
    if bytes(CRC32C().encode(index[:-4])) != index:
        raise SystemExit("the shard index crc32c does not match numcodecs' CRC32C: wrong layout")
    return list(struct.unpack(f"<{2 * n}Q", index[:-4]))


def index_bytes(entries: list[int]) -> bytes:
    return bytes(CRC32C().encode(struct.pack(f"<{len(entries)}Q", *entries)))


v2_strings, v3_arrays, metadata = [], [], []
for doc in sorted(store.rglob(".zarray")) + sorted(store.rglob("zarr.json")):
    meta = json.loads(doc.read_text())
    if doc.name == "zarr.json" and meta.get("node_type") != "array":
        continue
    if meta["shape"]:  # a 0-d array has no chunk shape to corrupt
        metadata.append((doc, meta))
    if doc.name == ".zarray" and meta["dtype"] == "|O" and meta.get("filters") == [{"id": "vlen-utf8"}]:
        v2_strings.append((doc.parent, meta))
    if doc.name == "zarr.json" and meta["codecs"][0]["name"] == "sharding_indexed":
        v3_arrays.append((doc.parent, meta))

for array_dir, meta in rng.sample(v2_strings, min(4, len(v2_strings))):
    codec = numcodecs.get_codec(meta["compressor"]) if meta["compressor"] else None
    chunk = array_dir / (".".join("0" * len(meta["shape"])) or "0")  # 0-d: key "0"
    if not chunk.is_file():
        continue
    raw = bytes(codec.decode(chunk.read_bytes())) if codec else chunk.read_bytes()
    bad = bad_prefix(raw)
    emit(chunk, "vlen-prefix", bytes(codec.encode(bad)) if codec else bad)

for array_dir, meta in v3_arrays:
    config = meta["codecs"][0]["configuration"]
    if config["index_location"] != "end" or [c["name"] for c in config["index_codecs"]] != ["bytes", "crc32c"]:
        continue
    shard_shape, inner = meta["chunk_grid"]["configuration"]["chunk_shape"], config["chunk_shape"]
    n = 1
    for s, i in zip(shard_shape, inner):
        n *= -(-s // i)
    shard = array_dir / "/".join(["c", *"0" * len(meta["shape"])])
    if not shard.is_file():
        continue
    data = shard.read_bytes()
    entries = shard_entries(data, n)
    stored = [k for k in range(n) if entries[2 * k] != 2**64 - 1]
    if not stored:
        continue
    inner_codecs = [c["name"] for c in config["codecs"]]
    if inner_codecs == ["vlen-utf8", "zstd"]:
        # Rewrite inner chunk k with a bad prefix, recompressed; the shard re-laid out.
        k = rng.choice(stored)
        off, size = entries[2 * k], entries[2 * k + 1]
        bad = bytes(Zstd(level=0).encode(bad_prefix(bytes(Zstd().decode(data[off:off + size])))))
        body, new = b"", list(entries)
        for j in range(n):
            if entries[2 * j] == 2**64 - 1:
                continue
            part = bad if j == k else data[entries[2 * j]:entries[2 * j] + entries[2 * j + 1]]
            new[2 * j], new[2 * j + 1] = len(body), len(part)
            body += part
        emit(shard, "vlen-prefix", body + index_bytes(new))
    elif rng.random() < 0.25:
        k = rng.choice(stored)
        new = list(entries)
        new[2 * k] = 2**64 - 1 - rng.randrange(1, 16)  # offset + nbytes overflows u64
        emit(shard, "shard-entry", data[: -(n * 16 + 4)] + index_bytes(new))

for doc, meta in rng.sample(metadata, min(6, len(metadata))):
    meta = json.loads(json.dumps(meta))
    if doc.name == ".zarray":
        meta["chunks"] = huge(len(meta["chunks"]))
    elif rng.random() < 0.5 or meta["codecs"][0]["name"] != "sharding_indexed":
        meta["chunk_grid"]["configuration"]["chunk_shape"] = huge(len(meta["shape"]))
    else:
        cfg = meta["codecs"][0]["configuration"]
        cfg["chunk_shape"] = huge(len(cfg["chunk_shape"]))
    emit(doc, "chunk-shape", json.dumps(meta, indent=2).encode())

json.dump(mutants, sys.stdout)
