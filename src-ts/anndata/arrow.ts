// DataFrame <-> Apache Arrow. Numeric columns are shared with Arrow without copies; categoricals
// become dictionary columns (ordered flag kept), missing values become validity bits. Field
// metadata `anndata:encoding` records encodings Arrow cannot tell apart (a nullable-integer
// without missing values, the na-value of nullable strings), so fromArrow(toArrow(df)) is exact.

import * as arrow from 'apache-arrow';
import type { NumericTypedArray } from '../zarr/dtype.js';
import { InvalidInputError, UnsupportedError } from '../zarr/errors.js';
import {
  type CategoricalColumn,
  type Column,
  codesArray,
  DataFrame,
  type NullableIntegerColumn,
  type NumericColumn,
  registerArrow,
} from './dataframe.js';

const INDEX_KEY = 'anndata:index';
const ENCODING_KEY = 'anndata:encoding';

const ARROW_NUMERIC: Record<NumericColumn['dtype'], () => arrow.DataType> = {
  int8: () => new arrow.Int8(),
  int16: () => new arrow.Int16(),
  int32: () => new arrow.Int32(),
  int64: () => new arrow.Int64(),
  uint8: () => new arrow.Uint8(),
  uint16: () => new arrow.Uint16(),
  uint32: () => new arrow.Uint32(),
  uint64: () => new arrow.Uint64(),
  float16: () => new arrow.Float16(),
  float32: () => new arrow.Float32(),
  float64: () => new arrow.Float64(),
};

/** Arrow validity bitmap (1 = valid) from a missing-mask (1 = missing). */
function validity(mask: Uint8Array): { nullBitmap: Uint8Array; nullCount: number } {
  const bits = new Uint8Array(Math.ceil(mask.length / 8));
  let nullCount = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i]) nullCount++;
    else bits[i >> 3] |= 1 << (i & 7);
  }
  return { nullBitmap: bits, nullCount };
}

function numericData(dtype: NumericColumn['dtype'], data: NumericTypedArray, mask?: Uint8Array): arrow.Data {
  const v = mask ? validity(mask) : { nullCount: 0 };
  return arrow.makeData({ type: ARROW_NUMERIC[dtype]() as arrow.Int, length: data.length, data, ...v } as never);
}

function toVector(c: Column): { data: arrow.Data; encoding?: string } {
  switch (c.kind) {
    case 'numeric':
      return { data: numericData(c.dtype, c.data) };
    case 'bool':
      return {
        data: arrow.vectorFromArray(
          Array.from(c.data, (b) => b !== 0),
          new arrow.Bool(),
        ).data[0],
      };
    case 'string':
      return { data: arrow.vectorFromArray(c.data, new arrow.Utf8()).data[0] };
    case 'nullable-string':
      return {
        data: arrow.vectorFromArray(
          c.values.map((s, i) => (c.mask[i] ? null : s)),
          new arrow.Utf8(),
        ).data[0],
        encoding: `nullable-string:${c.naValue}`,
      };
    case 'nullable-boolean':
      return {
        data: arrow.vectorFromArray(
          Array.from(c.values, (b, i) => (c.mask[i] ? null : b !== 0)),
          new arrow.Bool(),
        ).data[0],
        encoding: 'nullable-boolean',
      };
    case 'nullable-integer':
      return { data: numericData(c.dtype, c.values, c.mask), encoding: 'nullable-integer' };
    case 'categorical': {
      const dict = toVector(c.categories).data;
      const n = c.codes.length;
      const mask = new Uint8Array(n);
      const codes = c.codes instanceof BigInt64Array ? Int32Array.from(c.codes, Number) : c.codes.slice();
      for (let i = 0; i < n; i++) {
        if (codes[i] < 0) {
          mask[i] = 1;
          codes[i] = 0;
        }
      }
      const keyType = (
        codes instanceof Int8Array
          ? new arrow.Int8()
          : codes instanceof Int16Array
            ? new arrow.Int16()
            : new arrow.Int32()
      ) as arrow.Int8;
      const type = new arrow.Dictionary(dict.type, keyType, null, c.ordered);
      return {
        data: arrow.makeData({
          type,
          length: n,
          data: codes as Int8Array,
          dictionary: arrow.makeVector(dict),
          ...validity(mask),
        }),
      };
    }
  }
}

function toArrow(df: DataFrame): arrow.Table {
  const indexName = df.indexName ?? '_index';
  const names = [indexName, ...df.columns];
  const fields: arrow.Field[] = [];
  const datas: arrow.Data[] = [];
  for (const [i, name] of names.entries()) {
    const v = toVector(i === 0 ? df.index : df.get(name));
    const meta = new Map<string, string>();
    if (v.encoding) meta.set(ENCODING_KEY, v.encoding);
    fields.push(new arrow.Field(name, v.data.type, v.data.nullCount > 0 || v.encoding !== undefined, meta));
    datas.push(v.data);
  }
  const schema = new arrow.Schema(
    fields,
    new Map([[INDEX_KEY, JSON.stringify({ name: df.indexName, column: indexName })]]),
  );
  const struct = arrow.makeData({
    type: new arrow.Struct(fields),
    length: df.nRows,
    nullCount: 0,
    children: datas,
  });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, struct));
}

/** One contiguous typed array of a (possibly chunked) numeric vector. */
function valuesOf(v: arrow.Vector): NumericTypedArray {
  if (v.data.length === 1) {
    const d = v.data[0];
    return d.values.subarray(d.offset, d.offset + d.length) as NumericTypedArray;
  }
  const first = v.data[0].values as NumericTypedArray;
  const out = new (first.constructor as new (n: number) => NumericTypedArray)(v.length);
  let at = 0;
  for (const d of v.data) {
    (out as Float64Array).set(d.values.subarray(d.offset, d.offset + d.length) as Float64Array, at);
    at += d.length;
  }
  return out;
}

function maskOf(v: arrow.Vector): Uint8Array {
  const m = new Uint8Array(v.length);
  if (v.nullCount === 0) return m;
  for (let i = 0; i < v.length; i++) m[i] = v.isValid(i) ? 0 : 1;
  return m;
}

const DTYPE_OF: [(t: arrow.DataType) => boolean, NumericColumn['dtype']][] = [
  [(t) => t instanceof arrow.Int8, 'int8'],
  [(t) => t instanceof arrow.Int16, 'int16'],
  [(t) => t instanceof arrow.Int32, 'int32'],
  [(t) => t instanceof arrow.Int64, 'int64'],
  [(t) => t instanceof arrow.Uint8, 'uint8'],
  [(t) => t instanceof arrow.Uint16, 'uint16'],
  [(t) => t instanceof arrow.Uint32, 'uint32'],
  [(t) => t instanceof arrow.Uint64, 'uint64'],
  [(t) => t instanceof arrow.Float16, 'float16'],
  [(t) => t instanceof arrow.Float32, 'float32'],
  [(t) => t instanceof arrow.Float64, 'float64'],
];

function numericDType(t: arrow.DataType): NumericColumn['dtype'] | undefined {
  if (arrow.DataType.isInt(t)) {
    const signed = t.isSigned ? 'int' : 'uint';
    return `${signed}${t.bitWidth}` as NumericColumn['dtype'];
  }
  return (
    DTYPE_OF.find(([is]) => is(t))?.[1] ??
    (arrow.DataType.isFloat(t) ? (['float16', 'float32', 'float64'] as const)[t.precision] : undefined)
  );
}

function fromVector(v: arrow.Vector, field: arrow.Field): Column {
  const t = v.type as arrow.DataType;
  const enc = field.metadata.get(ENCODING_KEY) ?? '';
  const mask = maskOf(v);
  const hasNulls = v.nullCount > 0;
  if (arrow.DataType.isDictionary(t)) {
    const dict = v.data[0].dictionary as arrow.Vector;
    if (!v.data.every((d) => d.dictionary === dict)) {
      throw new UnsupportedError(
        'Unsupported',
        `column '${field.name}': dictionary batches with different dictionaries`,
      );
    }
    const categories = fromVector(dict, new arrow.Field('categories', dict.type)) as CategoricalColumn['categories'];
    const idx = valuesOf(v);
    const codes = codesArray(dict.length, v.length);
    for (let i = 0; i < v.length; i++) codes[i] = (mask[i] ? -1 : Number(idx[i])) as never;
    return { kind: 'categorical', codes, categories, ordered: (t as arrow.Dictionary).isOrdered };
  }
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) {
    const values = Array.from({ length: v.length }, (_, i) => (mask[i] ? '' : (v.get(i) as string)));
    if (!hasNulls && !enc.startsWith('nullable-string')) return { kind: 'string', data: values };
    return { kind: 'nullable-string', values, mask, naValue: enc.endsWith(':NaN') ? 'NaN' : 'NA' };
  }
  if (arrow.DataType.isBool(t)) {
    const values = Uint8Array.from({ length: v.length }, (_, i) => (v.get(i) ? 1 : 0));
    if (!hasNulls && enc !== 'nullable-boolean') return { kind: 'bool', data: values };
    return { kind: 'nullable-boolean', values, mask };
  }
  const dtype = numericDType(t);
  if (dtype === undefined) {
    throw new UnsupportedError('Unsupported', `column '${field.name}': Arrow type ${t} has no AnnData encoding`);
  }
  const data = valuesOf(v);
  if (dtype.startsWith('float')) {
    if (!hasNulls) return { kind: 'numeric', dtype, data };
    // pandas semantics: missing floats are NaN (float16 as its NaN bits)
    const out = data.slice();
    for (let i = 0; i < mask.length; i++)
      if (mask[i]) (out as Float64Array)[i] = dtype === 'float16' ? 0x7e00 : Number.NaN;
    return { kind: 'numeric', dtype, data: out };
  }
  if (!hasNulls && enc !== 'nullable-integer') return { kind: 'numeric', dtype, data };
  const values = data.slice();
  for (let i = 0; i < mask.length; i++)
    if (mask[i]) (values as Float64Array)[i] = (typeof values[0] === 'bigint' ? 0n : 0) as number;
  return { kind: 'nullable-integer', dtype: dtype as NullableIntegerColumn['dtype'], values, mask };
}

function fromArrow(table: arrow.Table, opts: { index?: string }): DataFrame {
  const meta = table.schema.metadata.get(INDEX_KEY);
  const saved = meta ? (JSON.parse(meta) as { name: string | null; column: string }) : undefined;
  const indexColumn = opts.index ?? saved?.column;
  const fields = table.schema.fields;
  if (indexColumn !== undefined && !fields.some((f) => f.name === indexColumn)) {
    throw new InvalidInputError('InvalidInput', `fromArrow: no column '${indexColumn}' to use as the index`, {
      key: indexColumn,
    });
  }
  const cols: [string, Column][] = [];
  let index: Column | undefined;
  fields.forEach((f, i) => {
    const c = fromVector(table.getChildAt(i) as arrow.Vector, f);
    if (f.name === indexColumn) index = c;
    else cols.push([f.name, c]);
  });
  const indexName = opts.index !== undefined ? opts.index : (saved?.name ?? null);
  return new DataFrame({ index, indexName, columns: cols, nRows: table.numRows });
}

registerArrow(toArrow, fromArrow);
