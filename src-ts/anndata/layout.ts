// Chunk and shard shapes per element kind: the sharding policy of writeZarr.
//
// Why not the reference's ~1 GB shards (anndata 0.13, issue #2598): a shard is encoded and
// written whole, so each shard in flight is buffered in memory, a killed writer loses a whole
// shard of work, and a 2-core writer with 1 GB shards has at most a handful of shards to spread
// over threads. 64 MiB shards keep writer memory at (threads x 64 MiB), parallelise across
// shards, stay below multipart thresholds of object stores, and still cut the file count by
// 64x-256x against plain 1 MiB chunks. Remote readers pay one small index read per shard and then
// fetch inner chunks by range, so smaller shards cost them nothing extra.
//
// Inner chunks:
// - dense X / layers / obsm / varm (2-D): whole rows, as many as fit in 1 MiB (row access is
//   the common pattern; a 20k-gene float32 row is 80 KB, so 13 rows per chunk); rows wider than
//   1 MiB split into 16-row column blocks. Shards: full-width, ~64 MiB of rows.
// - sparse `data` / `indices`: 256 KiB inner chunks (64k values, a few dozen cells of a typical
//   count matrix), so a random-row read decodes little beyond the row. `indptr`: 1 MiB.
// - 1-D obs/var columns, categorical codes and categories, nullable values/masks: 1 MiB inner
//   chunks, i.e. a whole column in one chunk up to 256k float32 rows (#2295, #2296 ask for this
//   instead of tiny per-column chunks).
// - arrays that fit in a single inner chunk are left unsharded (a shard index would only add
//   bytes); scalars are never sharded.
//
// Compression: never larger than python anndata's zstd level 3 (within 5%) on real and benchmark
// data, and faster to encode (`node bench/anndata/codecs.mjs STORE`; table in the README).
// Integers wider than one byte (sparse indices and indptr, codes, counts) use zstd inside blosc
// behind a byte shuffle, clevel 2, which c-blosc runs as zstd level 3: the high bytes of small
// integers are mostly zero, so shuffled they shrink to about half of plain zstd's output (int32
// CSR indices: 0.54x) and encode 2-3x faster. Floats, strings, bools and 1-byte ints use plain
// zstd level 3: a byte shuffle splits float values that repeat (scaled or log-normalised
// expression, graph weights) and makes them 1.5-3x larger, so no shuffle setting is safe for
// floats. Every Zarr implementation reads blosc (zarr-python, zarrs, zarrita). Pass
// `compressor: 'zstd'` for plain zstd everywhere, as python anndata writes.

import type { CodecSpec } from '../zarr/array.js';
import type { DataType } from '../zarr/dtype.js';
import { itemSize } from '../zarr/dtype.js';
import { callSync } from '../zarr/errors.js';
import { native } from '../zarr/native.js';
import type { DatasetOptions, WriteOptions } from './options.js';

/** What an array holds, for the sharding policy. */
export type ArrayRole = 'dense' | 'sparse' | 'indptr' | 'column';

/** The default compressor of an array of `dtype` (see the module comment). */
export function defaultCompressor(dtype: DataType): CodecSpec {
  const wideInt = dtype.includes('int') && (itemSize(dtype) ?? 1) > 1;
  return wideInt ? 'blosc:zstd:2' : 'zstd:3';
}

/** The compressors of an array: the dataset option, else the write's, else the default for `dtype`. */
export function arrayCompressors(
  dtype: DataType,
  opts: Pick<WriteOptions, 'compressor'>,
  ds: DatasetOptions = {},
): CodecSpec | CodecSpec[] | null {
  if (ds.compressors !== undefined) return ds.compressors;
  return opts.compressor !== undefined ? opts.compressor : defaultCompressor(dtype);
}

const MiB = 1024 * 1024;
/** What a string element costs on average, for sizing string chunks. */
const STRING_BYTES = 16;

export interface Layout {
  chunks: number[];
  shards?: number[];
}

/**
 * Chunk and shard shapes for an array of `shape` and `dtype` holding an element of `kind`. The
 * policy itself (see the comment above) lives in the native core (`layout.rs`), shared with
 * `createArray`'s `'auto'` shapes and the converter.
 */
export function layoutFor(
  kind: ArrayRole,
  shape: number[],
  dtype: DataType,
  opts: Pick<WriteOptions, 'zarrFormat' | 'shards'>,
  ds: DatasetOptions = {},
): Layout {
  const policy = typeof opts.shards === 'object' ? opts.shards : {};
  const item = itemSize(dtype) ?? STRING_BYTES;
  const sharded = opts.zarrFormat === 3 && opts.shards !== false && ds.shards !== false;
  const l = callSync(() =>
    native.layoutFor(kind, shape, item, policy.chunkBytes ?? MiB, policy.shardBytes ?? 64 * MiB, ds.chunks, sharded),
  );
  if (sharded && Array.isArray(ds.shards)) return { chunks: l.chunks, shards: ds.shards };
  return l.shards ? { chunks: l.chunks, shards: l.shards } : { chunks: l.chunks };
}
