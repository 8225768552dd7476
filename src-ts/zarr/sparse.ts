// takeSparse: rows of a CSR matrix (columns of a CSC) from its stored `data` / `indices`
// arrays and already-read `indptr`, with an optional minor-axis filter, in one native call.

import { type CallOptions, withSignal } from './abort.js';
import { arrayHandle, type ZArray } from './array.js';
import type { NumericTypedArray } from './dtype.js';
import { InvalidInputError } from './errors.js';
import { type NativeMinorSelection, native } from './native.js';

/**
 * The minor-axis positions to keep: a range `start..stop` (indices come back shifted by
 * `start`) or a list in the asked order, duplicates allowed, negatives counted from the end
 * (indices come back as positions in the list, ascending within each row).
 */
export type MinorSelection = { start: number; stop: number } | Int32Array | Uint32Array | readonly number[];

/** Integer TypedArrays sparse indices come back as. */
export type IndexTypedArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/**
 * The assembled CSR (for a CSC matrix: the CSC of the asked columns). `data` has the stored
 * dtype; `indices` the stored index dtype when every output index fits it, else int64;
 * `indptr` is int32 when `indices` are int32 and the count fits, else int64.
 */
export interface SparseTake {
  data: NumericTypedArray;
  indices: IndexTypedArray;
  indptr: Int32Array | BigInt64Array;
}

export interface TakeSparseOptions extends CallOptions {
  /**
   * Length of the minor axis (CSR: columns); required with a minor selection. With it, every
   * stored index the take returns is checked to lie on that axis (`InvalidMetadata` if not).
   */
  minorLength?: number;
}

function nativeMinor(minor: MinorSelection, path: string): NativeMinorSelection {
  if (ArrayBuffer.isView(minor) || Array.isArray(minor)) {
    return { positions: Float64Array.from(minor as ArrayLike<number>) };
  }
  const r = minor as { start?: unknown; stop?: unknown };
  if (typeof r === 'object' && r !== null && typeof r.start === 'number' && typeof r.stop === 'number') {
    return { start: r.start, stop: r.stop };
  }
  throw new InvalidInputError(
    'InvalidInput',
    `'${path}': a minor selection is { start, stop } or a list of positions`,
    {
      key: path,
    },
  );
}

/**
 * Take major positions `major` (CSR rows, CSC columns) in the asked order, duplicates allowed,
 * negatives counted from the end. Reads only the inner chunks of `data` and `indices` that
 * hold them, all in one native call; `minor` filters the other axis in the same call.
 */
export async function takeSparse(
  data: ZArray,
  indices: ZArray,
  indptr: Int32Array | BigInt64Array,
  major: Int32Array | Uint32Array | readonly number[],
  minor?: MinorSelection,
  opts: TakeSparseOptions = {},
): Promise<SparseTake> {
  const path = data.path.includes('/') ? data.path.slice(0, data.path.lastIndexOf('/')) : data.path;
  if (!(indptr instanceof Int32Array || indptr instanceof BigInt64Array)) {
    throw new InvalidInputError('InvalidInput', `'${path}': indptr must be an Int32Array or a BigInt64Array`, {
      key: path,
    });
  }
  if (minor !== undefined && opts.minorLength === undefined) {
    throw new InvalidInputError('InvalidInput', `'${path}': a minor selection needs opts.minorLength`, { key: path });
  }
  const positions = major instanceof Uint32Array ? major : Float64Array.from(major);
  const sel = minor === undefined ? undefined : nativeMinor(minor, path);
  const bytes = new Uint8Array(indptr.buffer, indptr.byteOffset, indptr.byteLength);
  const [d, i] = [arrayHandle(data), arrayHandle(indices)];
  const is64 = indptr instanceof BigInt64Array;
  const t = await withSignal(opts.signal, (c) =>
    native.takeSparse(d, i, bytes, is64, positions, sel, opts.minorLength, c),
  );
  return { data: t.data as NumericTypedArray, indices: t.indices as IndexTypedArray, indptr: t.indptr };
}
