// The in-memory element types of AnnData: dense arrays, sparse matrices, scalars, awkward arrays,
// and the union `Elem` that readElem returns and writeElem accepts.

import {
  type DataType,
  type DataTypeMap,
  inferDType,
  type NumericDType,
  type NumericTypedArray,
} from '../zarr/dtype.js';
import { fromNative, InvalidInputError } from '../zarr/errors.js';
import { native } from '../zarr/native.js';
import type { DataFrame } from './dataframe.js';

export type { NumericDType };
export type IntDType = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';

/** An n-d array: numbers, bools (0/1 `Uint8Array`) or strings, C order. */
export interface Dense<D extends DataType = DataType> {
  /** Inferred from `data` when omitted on write (`Uint8Array` is uint8; pass 'bool' for bools). */
  dtype?: D;
  data: DataTypeMap[D];
  shape: number[];
}

/** A dense array as read: the dtype is always set. */
export type DenseArray<D extends DataType = DataType> = Required<Dense<D>>;

/** A dense 2-D matrix. */
export type DenseMatrix<D extends DataType = DataType> = Dense<D>;

export type IndexArray = Int32Array | BigInt64Array;

interface SparseInit {
  data: NumericTypedArray;
  indices: IndexArray;
  indptr: IndexArray;
  shape: [number, number];
  /** Element dtype of `data`; inferred when omitted (`Uint8Array` as uint8). */
  dtype?: NumericDType;
}

/** Compressed sparse rows or columns, as scipy stores them. */
abstract class SparseMatrix {
  abstract readonly format: 'csr' | 'csc';
  data: NumericTypedArray;
  indices: IndexArray;
  indptr: IndexArray;
  shape: [number, number];
  dtype: NumericDType;

  constructor(init: SparseInit) {
    this.data = init.data;
    this.indices = init.indices;
    this.indptr = init.indptr;
    this.shape = [init.shape[0], init.shape[1]];
    this.dtype = init.dtype ?? (inferDType(init.data, 'data') as NumericDType);
  }

  /** Stored non-zeros. */
  get nnz(): number {
    return this.data.length;
  }

  /** Check the structure: indptr length and monotonicity, index range. Rejects with InvalidInput. */
  validate(path = ''): Promise<void> {
    return validateCompressed(this as unknown as Sparse, path);
  }
}

export class CsrMatrix extends SparseMatrix {
  readonly format = 'csr' as const;
}

export class CscMatrix extends SparseMatrix {
  readonly format = 'csc' as const;
}

export type Sparse = CsrMatrix | CscMatrix;
export type Matrix = Dense | Sparse;

/** A 0-d number with its exact dtype (python's numpy scalars), so it round-trips unchanged. */
export class NumericScalar {
  constructor(
    readonly dtype: NumericDType,
    readonly value: number | bigint | boolean,
  ) {}
  valueOf(): number | bigint | boolean {
    return this.value;
  }
  toJSON(): unknown {
    return typeof this.value === 'bigint' ? this.value.toString() : this.value;
  }
}

/** An awkward array kept as its form, length and raw buffers (`<form_key>-<role>` names). */
export class AwkwardArray {
  constructor(
    readonly form: Record<string, unknown>,
    readonly length: number,
    readonly buffers: Record<string, DenseArray>,
  ) {}
}

/** One field of a record array. */
export interface RecArrayField {
  name: string;
  /** Element type of `data`: numbers, 'string' (fixed-length strings), 'datetime64', ... */
  dtype: Exclude<DataType, 'record' | 'bytes'>;
  data: NumericTypedArray | string[];
  /**
   * numpy spelling ('<U8', '<f4', '<M8[ns]'): as stored on read; on write the field's dtype
   * (default: from `dtype`, strings as `<U` of the longest value; required for datetimes).
   */
  numpyDtype?: string;
}

/** A numpy record array (structured dtype, encoding `rec-array`): named fields of one shape. */
export class RecArray {
  constructor(
    readonly shape: number[],
    readonly fields: RecArrayField[],
  ) {}

  /** Throws InvalidInput naming `path` unless there are fields, each with one value per record. */
  check(path: string): void {
    const n = numel(this.shape);
    const bad = this.fields.find((f) => f.data.length !== n);
    if (this.fields.length === 0 || bad || !this.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      const why = bad
        ? `field '${bad.name}' has ${bad.data.length} values, the shape [${this.shape.join(', ')}] needs ${n}`
        : this.fields.length === 0
          ? 'a rec-array needs at least one field'
          : `invalid shape [${this.shape.join(', ')}]`;
      throw new InvalidInputError('InvalidInput', `'/${path}': ${why}`, { key: path });
    }
  }
}

/**
 * An element read with `{ fallback: 'raw' }` that the registry cannot decode (unknown or
 * missing encoding, an array with a codec or data type this library cannot read). Read only:
 * writeElem refuses it.
 */
export interface RawElem {
  kind: 'raw';
  /** Store path of the node. */
  path: string;
  node: 'array' | 'group';
  /** The node's attributes, undecoded. */
  attributes: Record<string, unknown>;
  /** The metadata document (`.zarray` / `zarr.json`; for groups `{ zarr_format, node_type }`). */
  metadata: Record<string, unknown>;
  /** Arrays zarrs can decode: all values. */
  data?: DenseArray;
  /** Arrays zarrs cannot decode: every stored chunk (encoded), by key relative to the array. */
  chunks?: Record<string, Uint8Array>;
  /** Groups: every child, raw as well. */
  children?: Record<string, RawElem>;
}

/** Anything readElem returns or writeElem accepts. */
export type Elem =
  | Dense
  | Sparse
  | DataFrame
  | NumericScalar
  | number
  | bigint
  | boolean
  | string
  | null
  | AwkwardArray
  | RecArray
  | RawElem
  | ElemDict
  | import('./dataframe.js').Column;

export interface ElemDict {
  [key: string]: Elem;
}

/** Encoding type and version, as in the `encoding-type` / `encoding-version` attributes. */
export interface IOSpec {
  encodingType: string;
  encodingVersion: string;
}

export function isDense(x: unknown): x is Dense {
  return (
    typeof x === 'object' &&
    x !== null &&
    'data' in x &&
    'shape' in x &&
    !('format' in x) &&
    (ArrayBuffer.isView((x as Dense).data) || Array.isArray((x as Dense).data))
  );
}

export function isSparse(x: unknown): x is Sparse {
  return x instanceof CsrMatrix || x instanceof CscMatrix;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fail(path: string, msg: string): never {
  throw new InvalidInputError('InvalidInput', `'/${path}': ${msg}`, { key: path });
}

/**
 * The structural checks of a CSR/CSC matrix (indptr from 0, monotone, ending at nnz; indices in
 * range), run natively in one call over the raw buffers. Rejects with InvalidInput naming `path`.
 */
export async function validateCompressed(m: Sparse, path: string): Promise<void> {
  const [rows, cols] = m.shape;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) {
    fail(path, `invalid shape [${m.shape.join(', ')}]`);
  }
  for (const [name, a] of [
    ['indptr', m.indptr],
    ['indices', m.indices],
  ] as const) {
    if (!(a instanceof Int32Array || a instanceof BigInt64Array))
      fail(path, `${name} must be an Int32Array or BigInt64Array`);
  }
  const bytes = (a: IndexArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  try {
    await native.validateCompressed(
      bytes(m.indptr),
      m.indptr instanceof BigInt64Array,
      bytes(m.indices),
      m.indices instanceof BigInt64Array,
      m.data.length,
      m.format === 'csr' ? rows : cols,
      m.format === 'csr' ? cols : rows,
    );
  } catch (e) {
    fail(path, fromNative(e).message);
  }
}
