// zarrs-node: fast native Zarr (v2 and v3, sharding) for Node.js on the zarrs Rust crate.

import { callSync } from './zarr/errors.js';
import { native } from './zarr/native.js';

export type { CallOptions } from './zarr/abort.js';
export {
  type ArrayInfo,
  type CodecSpec,
  type CreateArrayOptions,
  type RecordColumn,
  type Records,
  type RecordValue,
  ZArray,
} from './zarr/array.js';
export type {
  Chunk,
  DataType,
  DataTypeMap,
  ElementType,
  NumericTypedArray,
  NumpyDtype,
  NumpyDtypeSpec,
  RecordField,
} from './zarr/dtype.js';
export * from './zarr/errors.js';
export {
  type CreateGroupOptions,
  consolidateMetadata,
  createArray,
  createGroup,
  Group,
  type Member,
  type MemberMetadata,
  type OpenArrayOptions,
  type OpenGroupOptions,
  openArray,
  openGroup,
} from './zarr/group.js';
export { type BasicSelection, type Mask, mask, type OrthogonalSelection, type Slice, slice } from './zarr/selection.js';
export {
  type IndexTypedArray,
  type MinorSelection,
  type SparseTake,
  type TakeSparseOptions,
  takeSparse,
} from './zarr/sparse.js';
export {
  openStore,
  type RetryOptions,
  Store,
  type StoreLike,
  type StoreOptions,
  type StoreStats,
} from './zarr/store.js';

/** Set the number of worker threads (default: `ZARRS_NODE_THREADS` or the core count). */
export function setThreads(n: number): void {
  callSync(() => native.setThreads(n));
}

/** The number of worker threads. */
export function getThreads(): number {
  return native.getThreads();
}

/**
 * Cap the bytes a single read may allocate (default: physical memory). Reads over the cap fail
 * with InvalidInput before allocating.
 */
export function setMaxAllocBytes(n: number): void {
  callSync(() => native.setMaxAllocBytes(n));
}
