// The in-memory element types of AnnData: dense arrays, sparse matrices, scalars, awkward arrays,
// and the union `Elem` that readElem returns and writeElem accepts.

import type { DataType, DataTypeMap, NumericTypedArray } from '../zarr/dtype.js';
import { InvalidInputError } from '../zarr/errors.js';
import type { DataFrame } from './dataframe.js';

export type NumericDType = Exclude<DataType, 'string'>;
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

  /** Check the structure: indptr length and monotonicity, index range. Throws InvalidInput. */
  validate(path = ''): void {
    validateCompressed(this, path);
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

/** A numpy record array: named fields of one length. */
export class RecArray {
  constructor(readonly fields: { name: string; data: DenseArray }[]) {}
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

const BY_CTOR = new Map<unknown, DataType>([
  [Int8Array, 'int8'],
  [Int16Array, 'int16'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Uint8Array, 'uint8'],
  [Uint8ClampedArray, 'uint8'],
  [Uint16Array, 'uint16'],
  [Uint32Array, 'uint32'],
  [BigUint64Array, 'uint64'],
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
]);

/** The dtype a TypedArray (or string[]) carries. */
export function inferDType(data: unknown, path: string): DataType {
  if (Array.isArray(data)) {
    if (data.every((v) => typeof v === 'string')) return 'string';
    throw new InvalidInputError('InvalidInput', `'${path}': a plain array must hold only strings`, { key: path });
  }
  const d = data === null || data === undefined ? undefined : BY_CTOR.get((data as object).constructor);
  if (d === undefined) {
    throw new InvalidInputError(
      'InvalidInput',
      `'${path}': expected a TypedArray or string[], got ${data === null ? 'null' : typeof data}`,
      { key: path },
    );
  }
  return d;
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

/** The structural checks of a CSR/CSC matrix (also run on read, on the arrays as stored). */
export function validateCompressed(m: Sparse, path: string): void {
  const [rows, cols] = m.shape;
  const major = m.format === 'csr' ? rows : cols;
  const minor = m.format === 'csr' ? cols : rows;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0) {
    fail(path, `invalid shape [${m.shape.join(', ')}]`);
  }
  if (m.indptr.length !== major + 1) {
    fail(path, `indptr has ${m.indptr.length} entries, expected ${major + 1} for shape [${rows}, ${cols}]`);
  }
  if (m.indices.length !== m.data.length) {
    fail(path, `indices has ${m.indices.length} entries but data has ${m.data.length}`);
  }
  const ptr = m.indptr;
  if (Number(ptr[0]) !== 0) fail(path, `indptr[0] is ${ptr[0]}, expected 0`);
  for (let i = 1; i < ptr.length; i++) {
    if (ptr[i] < ptr[i - 1]) fail(path, `indptr decreases at ${i} (${ptr[i - 1]} -> ${ptr[i]})`);
  }
  if (Number(ptr[ptr.length - 1]) !== m.data.length) {
    fail(path, `indptr ends at ${ptr[ptr.length - 1]} but there are ${m.data.length} stored values`);
  }
  const idx = m.indices;
  if (idx instanceof Int32Array) {
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (v < 0 || v >= minor) fail(path, `indices[${i}] = ${v} is outside [0, ${minor})`);
    }
  } else {
    const lim = BigInt(minor);
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (v < 0n || v >= lim) fail(path, `indices[${i}] = ${v} is outside [0, ${minor})`);
    }
  }
}
