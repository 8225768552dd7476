// The canonical JSON dump of an AnnData (and of single elements), the TypeScript half of
// scripts/interop/anndata_dump_lib.py: both sides print the same shape so tests compare python's
// view of a store with ours by deep equality.

import {
  type AnnData,
  AwkwardArray,
  type Column,
  DataFrame,
  type Dense,
  NumericScalar,
  RecArray,
  type Sparse,
} from '../src-ts/anndata/index.js';
import { inferDType } from '../src-ts/zarr/dtype.js';
import { f16ToNumber } from './helpers.js';

type J = unknown;

function num(x: unknown, dtype: string): J {
  if (dtype === 'bool') return x === 1 || x === true;
  if (dtype === 'float16') return num(f16ToNumber(x as number), 'float64');
  if (typeof x === 'bigint') return x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x.toString();
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return 'NaN';
    if (x === Number.POSITIVE_INFINITY) return 'Infinity';
    if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  }
  return x;
}

function values(data: ArrayLike<unknown>, dtype: string): J[] {
  return Array.from(data, (x) => num(x, dtype));
}

export function dumpColumn(c: Column): J {
  switch (c.kind) {
    case 'numeric':
      return { type: 'array', dtype: c.dtype, data: values(c.data, c.dtype) };
    case 'bool':
      return { type: 'array', dtype: 'bool', data: values(c.data, 'bool') };
    case 'string':
      return { type: 'string-array', data: [...c.data] };
    case 'categorical':
      return {
        type: 'categorical',
        ordered: c.ordered,
        codes: values(c.codes, 'int64'),
        categories: dumpColumn(c.categories),
      };
    case 'nullable-integer':
      return {
        type: 'nullable-integer',
        dtype: c.dtype,
        values: Array.from(c.values as ArrayLike<unknown>, (v, i) => (c.mask[i] ? null : num(v, c.dtype))),
      };
    case 'nullable-boolean':
      return { type: 'nullable-boolean', values: Array.from(c.values, (v, i) => (c.mask[i] ? null : v !== 0)) };
    case 'nullable-string':
      return {
        type: 'nullable-string-array',
        naValue: c.naValue,
        values: c.values.map((v, i) => (c.mask[i] ? null : v)),
      };
  }
}

function dumpFrame(df: DataFrame): J {
  return {
    type: 'dataframe',
    indexName: df.indexName,
    index: dumpColumn(df.index),
    columns: df.columns,
    data: Object.fromEntries(df.columns.map((n) => [n, dumpColumn(df.get(n))])),
  };
}

function sorted(o: Record<string, unknown>): Record<string, J> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, dumpElem(o[k])]),
  );
}

export function dumpElem(e: unknown): J {
  if (e === null || e === undefined) return { type: 'null' };
  if (typeof e === 'string') return { type: 'string', value: e };
  // plain JS scalars dump as what writeElem stores them as
  if (typeof e === 'boolean') return { type: 'numeric-scalar', dtype: 'bool', value: e };
  if (typeof e === 'bigint') return { type: 'numeric-scalar', dtype: 'int64', value: num(e, 'int64') };
  if (typeof e === 'number') {
    const int = Number.isSafeInteger(e) && !Object.is(e, -0);
    return { type: 'numeric-scalar', dtype: int ? 'int64' : 'float64', value: num(e, 'float64') };
  }
  if (e instanceof NumericScalar) return { type: 'numeric-scalar', dtype: e.dtype, value: num(e.value, e.dtype) };
  if (e instanceof DataFrame) return dumpFrame(e);
  if (e instanceof RecArray) {
    return {
      type: 'rec-array',
      shape: e.shape,
      fields: e.fields.map((f) => [f.name, f.dtype === 'string' ? [...(f.data as string[])] : values(f.data, f.dtype)]),
    };
  }
  if (e instanceof AwkwardArray) {
    return {
      type: 'awkward-array',
      length: e.length,
      form: reduceForm(e.form),
      buffers: Object.fromEntries(
        Object.keys(e.buffers)
          .sort()
          .map((k) => [k, values(e.buffers[k].data as ArrayLike<unknown>, e.buffers[k].dtype)]),
      ),
    };
  }
  if (typeof e === 'object' && 'format' in e) {
    const m = e as Sparse;
    return {
      type: `${m.format}_matrix`,
      shape: m.shape,
      dtype: m.dtype,
      indicesDtype: m.indices instanceof BigInt64Array ? 'int64' : 'int32',
      indptrDtype: m.indptr instanceof BigInt64Array ? 'int64' : 'int32',
      data: values(m.data, m.dtype),
      indices: values(m.indices, 'int64'),
      indptr: values(m.indptr, 'int64'),
    };
  }
  if (typeof e === 'object' && 'kind' in e) return dumpColumn(e as Column);
  if (typeof e === 'object' && 'data' in e && 'shape' in e) {
    const d = { ...(e as Dense) };
    d.dtype ??= inferDType(d.data, '');
    if (d.dtype === 'string') return { type: 'string-array', shape: d.shape, data: [...(d.data as string[])] };
    return { type: 'array', dtype: d.dtype, shape: d.shape, data: values(d.data as ArrayLike<unknown>, d.dtype) };
  }
  if (typeof e === 'object') return { type: 'dict', items: sorted(e as Record<string, unknown>) };
  throw new Error(`cannot dump ${typeof e}`);
}

/** The form without form keys, empty parameters and empty inner shapes (python's canonical_form). */
function reduceForm(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(reduceForm);
  if (typeof o !== 'object' || o === null) return o;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const empty =
      k === 'form_key' ||
      (k === 'parameters' && (v === null || Object.keys(v as object).length === 0)) ||
      (k === 'inner_shape' && Array.isArray(v) && v.length === 0);
    if (!empty) out[k] = reduceForm(v);
  }
  return out;
}

export function dumpAnnData(a: AnnData): Record<string, J> {
  return {
    shape: a.shape,
    obs: dumpFrame(a.obs),
    var: dumpFrame(a.var),
    X: a.X === null ? null : dumpElem(a.X),
    layers: sorted(a.layers),
    obsm: sorted(a.obsm),
    varm: sorted(a.varm),
    obsp: sorted(a.obsp),
    varp: sorted(a.varp),
    uns: sorted(a.uns),
    raw: a.raw === null ? null : { X: dumpElem(a.raw.X), var: dumpFrame(a.raw.var), varm: sorted(a.raw.varm) },
  };
}
