// Data types and the TypedArrays that carry them across the boundary, and the description of
// numpy dtypes read through raw bytes (records, fixed-length strings, datetimes).

import { InvalidInputError } from './errors.js';

export type DataType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string'
  /** Variable-length byte strings (v3 `variable_length_bytes`, v2 `|O` + `vlen-bytes`). */
  | 'bytes'
  /** numpy datetime64: int64 counts of the unit in `ZArray.numpyDtype`; NaT is -2^63. */
  | 'datetime64'
  /** numpy timedelta64: int64 counts of the unit in `ZArray.numpyDtype`; NaT is -2^63. */
  | 'timedelta64'
  /** numpy structured dtype: read and written by field (`getRecords` / `setRecords`). */
  | 'record';

/** One fixed-size numpy element type: a plain array's or a record field's. */
export interface ElementType {
  /** Type of the decoded values: a numeric name, 'string', 'datetime64' or 'timedelta64'. */
  dtype: Exclude<DataType, 'record' | 'bytes'>;
  /** numpy spelling: '<U8', '>f4', '|S3', '<M8[ns]'. */
  numpyDtype: string;
  /** Bytes per element. */
  size: number;
  /** Fixed-length strings: capacity (code points for U, bytes for S). */
  fixedLength?: number;
  /** Datetimes: numpy unit ('ns', 'D', ...). */
  timeUnit?: string;
  /** Datetimes: multiplier of the unit (10 in '<M8[10ms]'). */
  timeScale?: number;
}

/** A record field: its name, byte offset within a record and element type. */
export interface RecordField {
  name: string;
  offset: number;
  element: ElementType;
}

/**
 * The numpy dtype of an array zarrs-node reads through raw bytes: records (`fields`), or plain
 * fixed-length strings and datetimes (`element`).
 */
export interface NumpyDtype {
  /** Bytes per element (per record). */
  itemsize: number;
  element?: ElementType;
  fields?: RecordField[];
}

/** A numpy dtype as zarr v2 spells it: '<U8', '<M8[ns]', or a field list for records. */
export type NumpyDtypeSpec = string | [name: string, dtype: string][];

/** Element types of numeric arrays, sparse data and scalars (not strings, bytes, records, times). */
export type NumericDType = Exclude<DataType, 'string' | 'bytes' | 'record' | 'datetime64' | 'timedelta64'>;

const NOT_NUMERIC: ReadonlySet<DataType> = new Set(['string', 'bytes', 'record', 'datetime64', 'timedelta64']);

export function isNumericDType(d: DataType): d is NumericDType {
  return !NOT_NUMERIC.has(d);
}

export type NumericTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** The JS representation of each data type's elements. */
export interface DataTypeMap {
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  /** IEEE half-precision bits. */
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  string: string[];
  bytes: Uint8Array[];
  datetime64: BigInt64Array;
  timedelta64: BigInt64Array;
  /** Record arrays have no single buffer: see `ZArray.getRecords`. */
  record: never;
}

/** Data types whose elements are int64 (bigint) values. */
function isInt64Like(dtype: DataType): boolean {
  return dtype === 'int64' || dtype === 'uint64' || dtype === 'datetime64' || dtype === 'timedelta64';
}

/** A selection's data and shape. */
export interface Chunk<D extends DataType = DataType> {
  data: DataTypeMap[D];
  shape: number[];
}

type Ctor = { new (n: number): NumericTypedArray; readonly name: string };

/** Data types without a TypedArray of their own. */
type Unboxed = 'string' | 'bytes' | 'record';

const CTORS: Record<Exclude<DataType, Unboxed>, Ctor> = {
  bool: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  datetime64: BigInt64Array,
  timedelta64: BigInt64Array,
};

/** A zeroed TypedArray of `n` elements of a numeric (or time) dtype. */
export function typedArray(dtype: Exclude<DataType, Unboxed>, n: number): NumericTypedArray {
  return new CTORS[dtype](n);
}

/** Bytes per element (strings: undefined). */
export function itemSize(dtype: DataType): number | undefined {
  return dtype === 'string' || dtype === 'bytes' || dtype === 'record'
    ? undefined
    : (CTORS[dtype] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}

const Float16ArrayCtor = (globalThis as { Float16Array?: { new (n: number): ArrayBufferView; name: string } })
  .Float16Array;

/**
 * Check that `data` has the element type of `dtype` and return the bytes to hand to native code
 * (a view, never a copy). Plain arrays are converted (a copy) for convenience.
 */
export function toNativeBytes(dtype: DataType, data: unknown, key: string): Uint8Array {
  if (dtype === 'string') {
    throw new InvalidInputError('InvalidInput', `'${key}' is a string array: pass string[]`, { key });
  }
  if (dtype === 'bytes') {
    throw new InvalidInputError('InvalidInput', `'${key}' is a bytes array: pass Uint8Array[]`, { key });
  }
  if (dtype === 'record') {
    throw new InvalidInputError('InvalidInput', `'${key}' is a record array: write it by fields (setRecords)`, { key });
  }
  const ctor = CTORS[dtype];
  let typed: ArrayBufferView;
  if (Array.isArray(data)) {
    typed = fromPlainArray(dtype, ctor, data, key);
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const ok =
      data.constructor === ctor ||
      (dtype === 'float16' && Float16ArrayCtor !== undefined && data.constructor === Float16ArrayCtor) ||
      (dtype === 'bool' && data.constructor === Uint8ClampedArray);
    if (!ok) {
      throw new InvalidInputError(
        'InvalidInput',
        `'${key}' has dtype ${dtype}: expected ${ctor.name}, got ${data.constructor.name}`,
        { key },
      );
    }
    typed = data;
  } else {
    throw new InvalidInputError('InvalidInput', `'${key}': expected a ${ctor.name} or an array, got ${typeof data}`, {
      key,
    });
  }
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function fromPlainArray(dtype: DataType, ctor: Ctor, data: unknown[], key: string): ArrayBufferView {
  const out = new ctor(data.length);
  const big = isInt64Like(dtype);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (big) {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isInteger(v))) {
        throw new InvalidInputError('InvalidInput', `'${key}': element ${i} (${String(v)}) is not an integer`, { key });
      }
      (out as BigInt64Array)[i] = BigInt(v as number | bigint);
    } else if (dtype === 'bool') {
      (out as Uint8Array)[i] = v ? 1 : 0;
    } else if (dtype === 'float16') {
      throw new InvalidInputError('InvalidInput', `'${key}': pass float16 data as Uint16Array bits`, { key });
    } else {
      if (typeof v !== 'number') {
        throw new InvalidInputError('InvalidInput', `'${key}': element ${i} is not a number`, { key });
      }
      (out as Float64Array)[i] = v;
    }
  }
  return out;
}

/** JSON text for a scalar fill/broadcast value (NaN and bigint survive). */
export function scalarJson(v: unknown): string {
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return JSON.stringify(Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
  }
  return JSON.stringify(v);
}

/** Decode a metadata fill value into its JS form. */
export function fillFromJson(dtype: DataType, v: unknown): unknown {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (isInt64Like(dtype) && typeof v === 'number') return BigInt(v);
  if (dtype === 'bool' && typeof v === 'number') return v !== 0;
  return v;
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
