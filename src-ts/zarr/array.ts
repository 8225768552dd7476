// ZArray: a typed handle over a native array. Reads return TypedArrays that own their memory
// (moved from Rust, not copied); writes pass views of the caller's TypedArrays.

import { type CallOptions, withSignal } from './abort.js';
import {
  type Chunk,
  type DataType,
  type ElementType,
  fillFromJson,
  type NumericTypedArray,
  type NumpyDtype,
  type NumpyDtypeSpec,
  scalarJson,
  toNativeBytes,
} from './dtype.js';
import { callSync, InvalidInputError } from './errors.js';
import type {
  NativeArray,
  NativeChunk,
  NativeCreateArrayOptions,
  NativeNumpyDtype,
  NativeRecordValue,
  NativeValue,
} from './native.js';
import { type BasicSelection, type OrthogonalSelection, toNativeBasic, toNativeOrthogonal } from './selection.js';
import type { Store } from './store.js';

/** A codec: `'zstd'`, `'zstd:5'`, `'blosc:lz4:5'`, `{ name: 'blosc', cname, clevel, shuffle }`,
 * `{ name: 'gzip', level }`, `{ name: 'zlib', level }`, `{ name: 'crc32c' }`,
 * `{ name: 'transpose', order }` (filter), or raw zarr metadata `{ name, configuration }`. */
export type CodecSpec = string | ({ name: string } & Record<string, unknown>);

export interface CreateArrayOptions<D extends DataType = DataType> {
  shape: number[];
  dtype: D;
  /**
   * Required for 'record', 'datetime64' and 'timedelta64'; for 'string' it makes a numpy
   * fixed-length array. Spelled as in zarr v2: '<U8', '|S4', '<M8[ns]', '<m8[10s]', or
   * `[['names', '<U8'], ['scores', '<f4']]`. v3 arrays use zarr-python's data types
   * (`struct`, `fixed_length_utf32`, `null_terminated_bytes`, `numpy.datetime64`), little-endian.
   */
  numpyDtype?: NumpyDtypeSpec;
  /** Inner chunk shape (chunk shape when unsharded), or 'auto' (<= 1 MiB). Default 'auto'. */
  chunks?: number[] | 'auto';
  /** Shard shape or 'auto' (~64 MiB, a multiple of chunks); v3 only. Default: unsharded. */
  shards?: number[] | 'auto';
  /** Default zstd level 3 (checksum off); null for none. */
  compressors?: CodecSpec | CodecSpec[] | null;
  filters?: CodecSpec[];
  fillValue?: unknown;
  attributes?: Record<string, unknown>;
  dimensionNames?: (string | null)[];
  zarrFormat?: 2 | 3;
  /** v2 only: 'F' stores chunks column-major. */
  order?: 'C' | 'F';
  overwrite?: boolean;
}

export interface ArrayInfo {
  /** Uncompressed size in bytes (null for strings). */
  nbytes: number | null;
  /** Bytes stored, metadata included. */
  nbytesStored: number;
  /** Stored chunk (or shard) objects. */
  chunksInitialized: number;
  /** Chunks (or shards) in the grid. */
  chunksTotal: number;
}

interface Description {
  path: string;
  shape: number[];
  dtype: DataType;
  chunks: number[];
  shards: number[] | null;
  zarrFormat: 2 | 3;
  metadata: Record<string, unknown>;
}

const CREATE_OPTIONS: ReadonlySet<string> = new Set<keyof CreateArrayOptions>([
  'shape',
  'dtype',
  'numpyDtype',
  'chunks',
  'shards',
  'compressors',
  'filters',
  'fillValue',
  'attributes',
  'dimensionNames',
  'zarrFormat',
  'order',
  'overwrite',
]);

/** A shape option: every dimension a non-negative safe integer (never rounded), refused by name. */
function shapeOption(key: string, v: number[]): number[] {
  const d = v.findIndex((n) => !Number.isSafeInteger(n) || n < 0);
  if (d >= 0) {
    throw new InvalidInputError(
      'InvalidInput',
      `createArray option '${key}[${d}]' must be a non-negative integer no larger than 2^53-1, got ${v[d]}`,
    );
  }
  return v;
}

/** JSON text of a free-form option; JSON would turn NaN and Infinity into null, so they are refused by name. */
function jsonOption(option: string, v: unknown): string {
  return JSON.stringify(v, (key, x: unknown) => {
    if (typeof x === 'number' && !Number.isFinite(x)) {
      throw new InvalidInputError(
        'InvalidInput',
        `createArray option '${key || option}' is ${x}: numbers must be finite`,
      );
    }
    return x;
  });
}

/**
 * Create options as the native side takes them: shapes checked here, free-form members as JSON
 * text (NaN, Infinity and bigint fills survive as scalarJson spells them), an unknown option
 * refused by name.
 */
export function nativeCreateOptions(opts: CreateArrayOptions): NativeCreateArrayOptions {
  const unknown = Object.keys(opts).find(
    (k) => !CREATE_OPTIONS.has(k) && (opts as unknown as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown !== undefined) throw new InvalidInputError('InvalidInput', `unknown createArray option '${unknown}'`);
  const json = (key: string, v: unknown) => (v === undefined ? undefined : jsonOption(key, v));
  const shape = (key: string, v: number[] | 'auto' | undefined) => (Array.isArray(v) ? shapeOption(key, v) : v);
  return {
    shape: Array.isArray(opts.shape) ? shapeOption('shape', opts.shape) : opts.shape,
    dtype: opts.dtype,
    numpyDtypeJson: json('numpyDtype', opts.numpyDtype),
    chunks: shape('chunks', opts.chunks),
    shards: shape('shards', opts.shards),
    // null stays null in the JSON: it asks for no compression.
    compressorsJson: json('compressors', opts.compressors),
    filtersJson: json('filters', opts.filters),
    fillValueJson: opts.fillValue === undefined ? undefined : scalarJson(opts.fillValue),
    attributesJson: json('attributes', opts.attributes),
    dimensionNames: opts.dimensionNames,
    zarrFormat: opts.zarrFormat,
    order: opts.order,
    overwrite: opts.overwrite,
  };
}

function nativeValue(dtype: DataType, value: unknown, key: string): NativeValue {
  if (dtype === 'bytes') {
    if (Array.isArray(value) && value.every((v) => v instanceof Uint8Array)) return { binary: value };
    throw new InvalidInputError('InvalidInput', `'${key}' is a bytes array: pass Uint8Array[]`, { key });
  }
  if (dtype === 'string') {
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === 'string')) {
        throw new InvalidInputError('InvalidInput', `'${key}' is a string array: every value must be a string`, {
          key,
        });
      }
      return { strings: value as string[] };
    }
    if (typeof value === 'string') return { scalar: JSON.stringify(value) };
    throw new InvalidInputError('InvalidInput', `'${key}' is a string array: pass string[] or a string`, { key });
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return { scalar: scalarJson(value) };
  }
  return { bytes: toNativeBytes(dtype, value, key) };
}

function chunkOf(c: NativeChunk): Chunk {
  return c as Chunk;
}

/** One field of a record read. */
export interface RecordColumn {
  name: string;
  /** The field's element type (decoded dtype, numpy spelling, fixed length, time unit). */
  element: ElementType;
  /** Numbers and datetimes as TypedArrays (int64 for datetimes), fixed-length strings as string[]. */
  data: NumericTypedArray | string[];
}

/** A selection of a record array: one column per field, in field order. */
export interface Records {
  shape: number[];
  fields: RecordColumn[];
}

/** Values for one field of a record write. */
export interface RecordValue {
  name: string;
  data: NumericTypedArray | string[] | unknown[];
}

function numpyOf(n: NativeNumpyDtype | null): NumpyDtype | null {
  if (n === null || n === undefined) return null;
  const el = (e: ElementType): ElementType => {
    const out: ElementType = { dtype: e.dtype, numpyDtype: e.numpyDtype, size: e.size };
    if (e.fixedLength != null) out.fixedLength = e.fixedLength;
    if (e.timeUnit != null) out.timeUnit = e.timeUnit;
    if (e.timeScale != null) out.timeScale = e.timeScale;
    return out;
  };
  const out: NumpyDtype = { itemsize: n.itemsize };
  if (n.element) out.element = el(n.element as ElementType);
  if (n.fields)
    out.fields = n.fields.map((f) => ({ name: f.name, offset: f.offset, element: el(f.element as ElementType) }));
  return out;
}

let nativeOf: (a: ZArray) => NativeArray;

export class ZArray<D extends DataType = DataType> {
  readonly #native: NativeArray;

  static {
    nativeOf = (a) => a.#native;
  }
  readonly #store: Store;
  #desc: Description;
  readonly #numpy: NumpyDtype | null;

  /** @internal use openArray / createArray */
  constructor(handle: NativeArray, store: Store) {
    this.#native = handle;
    this.#store = store;
    this.#desc = JSON.parse(callSync(() => handle.describe())) as Description;
    this.#numpy = numpyOf(handle.numpyDtype());
  }

  /**
   * The numpy dtype of records, fixed-length strings and datetimes (read as raw bytes), with
   * field names, numpy spellings, offsets, itemsize and time units; null for other arrays.
   */
  get numpyDtype(): NumpyDtype | null {
    return this.#numpy === null ? null : structuredClone(this.#numpy);
  }

  get store(): Store {
    return this.#store;
  }
  get path(): string {
    return this.#desc.path;
  }
  get shape(): number[] {
    return [...this.#desc.shape];
  }
  get dtype(): D {
    return this.#desc.dtype as D;
  }
  /** Inner chunk shape (the chunk shape when unsharded). */
  get chunks(): number[] {
    return [...this.#desc.chunks];
  }
  /** Shard shape, or null when unsharded. */
  get shards(): number[] | null {
    return this.#desc.shards ? [...this.#desc.shards] : null;
  }
  get zarrFormat(): 2 | 3 {
    return this.#desc.zarrFormat;
  }
  get attrs(): Record<string, unknown> {
    return structuredClone((this.#desc.metadata.attributes ?? {}) as Record<string, unknown>);
  }
  /** The fill value as JS (records: as stored, an object of field values or base64). */
  get fillValue(): unknown {
    const v = this.#desc.metadata.fill_value;
    // zarr-python stores numpy S fills in base64; show the text a read returns
    if (this.#numpy?.element?.numpyDtype.startsWith('|S') && typeof v === 'string') {
      return Buffer.from(v, 'base64').toString('utf8');
    }
    return fillFromJson(this.dtype, v);
  }
  /** Codec metadata: v3 `codecs`, or v2 `{ filters, compressor }` as numcodecs JSON. */
  get codecs(): unknown {
    const m = this.#desc.metadata;
    return structuredClone(
      this.zarrFormat === 3 ? m.codecs : { filters: m.filters ?? null, compressor: m.compressor ?? null },
    );
  }
  /** The whole metadata document. */
  get metadata(): Record<string, unknown> {
    return structuredClone(this.#desc.metadata);
  }

  /** Basic selection (null = all, integers drop a dimension, slices with positive steps). */
  async get(selection?: BasicSelection, opts: CallOptions = {}): Promise<Chunk<D>> {
    const sel = toNativeBasic(selection);
    return withSignal(opts.signal, async (c) => chunkOf(await this.#native.get(sel, c))) as Promise<Chunk<D>>;
  }

  /** Synchronous `get` on the calling thread, for hot small reads. */
  getSync(selection?: BasicSelection): Chunk<D> {
    const sel = toNativeBasic(selection);
    return callSync(() => chunkOf(this.#native.getSync(sel))) as Chunk<D>;
  }

  /** Orthogonal (outer) selection: per dimension an integer list, boolean mask, slice or index. */
  async getOrthogonal(selection: OrthogonalSelection, opts: CallOptions = {}): Promise<Chunk<D>> {
    const sel = toNativeOrthogonal(selection);
    return withSignal(opts.signal, async (c) => chunkOf(await this.#native.getOrthogonal(sel, c))) as Promise<Chunk<D>>;
  }

  /** Point selection: `coords[d]` holds the indices along dimension `d`; returns a 1-D chunk. */
  async getCoordinates(coords: ArrayLike<number>[], opts: CallOptions = {}): Promise<Chunk<D>> {
    const cs = coords.map((c) => Float64Array.from(c));
    return withSignal(opts.signal, async (c) => chunkOf(await this.#native.getCoordinates(cs, c))) as Promise<Chunk<D>>;
  }

  /** Write a TypedArray (or string[]) matching the selection, or a scalar to broadcast. */
  async set(
    selection: BasicSelection,
    value: Chunk<D> | Chunk<D>['data'] | number | bigint | boolean | string,
    opts: CallOptions = {},
  ): Promise<void> {
    const sel = toNativeBasic(selection);
    const v = nativeValue(this.dtype, isChunk(value) ? value.data : value, this.path);
    return withSignal(opts.signal, (c) => this.#native.set(sel, v, c));
  }

  /** Synchronous `set` on the calling thread. */
  setSync(selection: BasicSelection, value: Chunk<D> | Chunk<D>['data'] | number | bigint | boolean | string): void {
    const sel = toNativeBasic(selection);
    const v = nativeValue(this.dtype, isChunk(value) ? value.data : value, this.path);
    callSync(() => this.#native.setSync(sel, v));
  }

  /** Basic selection of a record array: one column per field, in field order. */
  async getRecords(selection?: BasicSelection, opts: CallOptions = {}): Promise<Records> {
    const sel = toNativeBasic(selection);
    const fields = this.#recordFields();
    const r = await withSignal(opts.signal, (c) => this.#native.getRecords(sel, c));
    return {
      shape: r.shape,
      // record fields are fixed-size: numbers, int64 times or strings, never byte strings
      fields: r.fields.map((f, i) => ({
        name: f.name,
        element: fields[i].element,
        data: f.data as NumericTypedArray | string[],
      })),
    };
  }

  /**
   * Write a basic selection of a record array: every field once, numbers and datetimes as
   * TypedArrays (BigInt64Array for datetimes), fixed-length strings as string[].
   */
  async setRecords(selection: BasicSelection, fields: RecordValue[], opts: CallOptions = {}): Promise<void> {
    const sel = toNativeBasic(selection);
    const byName = new Map(this.#recordFields().map((f) => [f.name, f.element]));
    const values: NativeRecordValue[] = fields.map((f) => {
      const element = byName.get(f.name);
      const key = `${this.path}/${f.name}`;
      if (element === undefined) {
        throw new InvalidInputError('InvalidInput', `'${this.path}' has no field '${f.name}'`, { key: this.path });
      }
      if (element.dtype === 'string') {
        if (!Array.isArray(f.data) || !f.data.every((v) => typeof v === 'string')) {
          throw new InvalidInputError('InvalidInput', `'${key}' is a string field: pass string[]`, { key: this.path });
        }
        return { name: f.name, strings: f.data as string[] };
      }
      return { name: f.name, bytes: toNativeBytes(element.dtype, f.data, key) };
    });
    return withSignal(opts.signal, (c) => this.#native.setRecords(sel, values, c));
  }

  #recordFields() {
    const fields = this.#numpy?.fields;
    if (!fields) {
      throw new InvalidInputError('InvalidInput', `'${this.path}' is not a record array (its dtype is ${this.dtype})`, {
        key: this.path,
      });
    }
    return fields;
  }

  /** Change the shape; chunks wholly outside it are deleted. */
  async resize(shape: number[], opts: CallOptions = {}): Promise<void> {
    this.#desc = JSON.parse(await withSignal(opts.signal, () => this.#native.resize(shape))) as Description;
  }

  /** Append `value` (shape must match except along `axis`); returns the new shape. */
  async append(value: Chunk<D>, axis = 0, opts: CallOptions = {}): Promise<number[]> {
    const v = nativeValue(this.dtype, value.data, this.path);
    this.#desc = JSON.parse(
      await withSignal(opts.signal, (c) => this.#native.append(v, value.shape, axis, c)),
    ) as Description;
    return this.shape;
  }

  /** Replace the user attributes. */
  async setAttributes(attrs: Record<string, unknown>, opts: CallOptions = {}): Promise<void> {
    const json = JSON.stringify(attrs);
    this.#desc = JSON.parse(await withSignal(opts.signal, () => this.#native.setAttributes(json))) as Description;
  }

  /** Sizes and chunk counts. */
  async info(
    opts: CallOptions = {},
  ): Promise<
    ArrayInfo & { shape: number[]; dtype: DataType; chunks: number[]; shards: number[] | null; zarrFormat: 2 | 3 }
  > {
    const i = JSON.parse(await withSignal(opts.signal, () => this.#native.info())) as ArrayInfo;
    return {
      ...i,
      shape: this.shape,
      dtype: this.dtype,
      chunks: this.chunks,
      shards: this.shards,
      zarrFormat: this.zarrFormat,
    };
  }
}

function isChunk(v: unknown): v is Chunk {
  return typeof v === 'object' && v !== null && 'data' in v && 'shape' in v && !ArrayBuffer.isView(v);
}

/** @internal The native handle, for batched primitives over several arrays (sparse takes). */
export function arrayHandle(array: ZArray): NativeArray {
  return nativeOf(array);
}
