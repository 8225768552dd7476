// The option types shared by the registry, the entry points and the sharding policy: how a read
// treats what it cannot decode, and how a write lays out and compresses its arrays.

import type { CodecSpec } from '../zarr/array.js';

/** Per-array storage options (python's `dataset_kwargs`). */
export interface DatasetOptions {
  /** Inner chunk shape (chunk shape when unsharded). */
  chunks?: number[];
  /** Shard shape, or false for an unsharded array (v3 only). */
  shards?: number[] | false;
  compressors?: CodecSpec | CodecSpec[] | null;
}

/** Target sizes of the sharding policy (see layout.ts). */
export interface ShardPolicy {
  /** Target inner chunk size in bytes (default 1 MiB; sparse data/indices use a quarter). */
  chunkBytes?: number;
  /** Target shard size in bytes (default 64 MiB). */
  shardBytes?: number;
}

export interface ReadOptions {
  /**
   * What to do with a node whose encoding is unknown, or missing in a file that has encodings:
   * 'error' (default) throws InvalidMetadata naming the element; 'raw' returns arrays as dense
   * arrays and groups as dicts of their children.
   */
  fallback?: 'error' | 'raw';
  signal?: AbortSignal;
}

export interface WriteOptions {
  zarrFormat: 2 | 3;
  /** 'auto' = our policy per element kind; false = unsharded; or the policy's byte targets. */
  shards: 'auto' | false | ShardPolicy;
  /** Default compressor of every array (zstd level 3). */
  compressor?: CodecSpec | null;
  signal?: AbortSignal;
}
