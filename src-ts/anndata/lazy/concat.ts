// concat: AnnData objects (lazy or in memory) stacked along obs, lazy until toMemory. var is
// aligned by name (inner: the names every input has, in the first input's order; outer: all
// names in order of first appearance), as python's anndata.concat does with its defaults.

import type { CallOptions } from '../../zarr/abort.js';
import { InvalidInputError, UnsupportedError } from '../../zarr/errors.js';
import { AnnData } from '../anndata.js';
import { type CategoricalColumn, type Column, codesArray, col, columnValues, DataFrame } from '../dataframe.js';
import { CscMatrix, CsrMatrix, type IndexArray, isDense, isSparse, type Matrix, type NumericDType } from '../elems.js';
import { LazyAnnData } from './anndata.js';

export interface ConcatOptions {
  /** Only 'obs' (rows) is supported. */
  axis?: 'obs' | 0;
  /** How var names (and obs columns) are joined: 'inner' (default) or 'outer'. */
  join?: 'inner' | 'outer';
  /** Add an obs column of this name saying which input each row came from. */
  label?: string;
  /** The label's value per input (default '0', '1', ...). */
  keys?: string[];
}

/**
 * Stack `adatas` along obs. Nothing is read until `toMemory()`, which reads from each lazy
 * input only its var columns that the join keeps. The result has X, the layers and obsm
 * matrices every input has, obs (columns joined like var; an outer join marks missing values
 * as missing), and var with the joined names; uns, varm, obsp and varp are not merged (python's
 * defaults). Missing X values of an outer join are 0 (sparse) or NaN (dense floats).
 */
export function concat(adatas: readonly (AnnData | LazyAnnData)[], opts: ConcatOptions = {}): LazyConcat {
  if ((opts.axis ?? 'obs') !== 'obs' && opts.axis !== 0) {
    throw new UnsupportedError('Unsupported', `concat: only axis 'obs' is supported, not ${String(opts.axis)}`);
  }
  if (adatas.length === 0) throw new InvalidInputError('InvalidInput', 'concat: no objects to concatenate');
  const keys = opts.keys ?? adatas.map((_, i) => String(i));
  if (keys.length !== adatas.length) {
    throw new InvalidInputError('InvalidInput', `concat: ${keys.length} keys for ${adatas.length} objects`);
  }
  return new LazyConcat(adatas, opts.join ?? 'inner', opts.label ?? null, keys);
}

export class LazyConcat {
  readonly varNames: string[];
  readonly obsNames: string[];

  /** @internal */
  constructor(
    readonly inputs: readonly (AnnData | LazyAnnData)[],
    readonly join: 'inner' | 'outer',
    readonly label: string | null,
    readonly keys: readonly string[],
  ) {
    this.varNames = joinNames(
      inputs.map((a) => a.varNames),
      join,
    );
    this.obsNames = inputs.flatMap((a) => a.obsNames);
  }

  get nObs(): number {
    return this.obsNames.length;
  }
  get nVars(): number {
    return this.varNames.length;
  }

  /** Read every input's part (concurrently) and stack them. */
  async toMemory(opts: CallOptions = {}): Promise<AnnData> {
    const out = new Map(this.varNames.map((n, j) => [n, j]));
    // per input: output position of each of its columns (-1: dropped by the join)
    const maps = this.inputs.map((a) => Int32Array.from(a.varNames, (n) => out.get(n) ?? -1));
    const parts = await Promise.all(
      this.inputs.map(async (a, i) => {
        if (!(a instanceof LazyAnnData)) return { adata: a, cols: maps[i] };
        // read only the kept columns, in output order
        const kept = [...maps[i].keys()].filter((c) => maps[i][c] >= 0).sort((x, y) => maps[i][x] - maps[i][y]);
        return { adata: await a.select(null, kept).toMemory(opts), cols: Int32Array.from(kept, (c) => maps[i][c]) };
      }),
    );
    const J = this.nVars;
    const X = parts.every((p) => p.adata.X !== null)
      ? stack(
          parts.map((p) => placeColumns(p.adata.X as Matrix, p.cols, J)),
          'X',
        )
      : null;
    const common = (f: (a: AnnData) => Record<string, unknown>) =>
      Object.keys(f(parts[0].adata)).filter((k) => parts.every((p) => k in f(p.adata)));
    const layers = Object.fromEntries(
      common((a) => a.layers).map((k) => [
        k,
        stack(
          parts.map((p) => placeColumns(p.adata.layers[k], p.cols, J)),
          `layers/${k}`,
        ),
      ]),
    );
    const obsm = Object.fromEntries(
      common((a) => a.obsm)
        .filter((k) => parts.every((p) => isDense(p.adata.obsm[k]) || isSparse(p.adata.obsm[k])))
        .map((k) => [
          k,
          stack(
            parts.map((p) => p.adata.obsm[k] as Matrix),
            `obsm/${k}`,
          ),
        ]),
    );
    const obs = this.#obs(parts.map((p) => p.adata.obs));
    return new AnnData({ X, layers, obsm, obs, var: new DataFrame({ index: this.varNames }) });
  }

  #obs(frames: DataFrame[]): DataFrame {
    const names = joinNames(
      frames.map((f) => f.columns),
      this.join,
    );
    const columns: [string, Column][] = names.map((name) => [
      name,
      concatColumns(
        frames.map((f) => (f.has(name) ? f.get(name) : null)),
        frames.map((f) => f.nRows),
        name,
      ),
    ]);
    if (this.label !== null) {
      const values = frames.flatMap((f, i) => new Array<string>(f.nRows).fill(this.keys[i]));
      columns.push([this.label, col.categorical(values, { categories: [...this.keys] })]);
    }
    return new DataFrame({
      index: frames.flatMap((f) => f.indexValues),
      indexName: frames[0].indexName,
      columns,
    });
  }
}

/** inner: names in every list, in the first list's order; outer: all, in order of first appearance. */
function joinNames(lists: readonly (readonly string[])[], join: 'inner' | 'outer'): string[] {
  if (join === 'outer') return [...new Set(lists.flat())];
  const sets = lists.slice(1).map((l) => new Set(l));
  return lists[0].filter((n) => sets.every((s) => s.has(n)));
}

/** `m` with its column c moved to `cols[c]` of a `J`-column matrix (-1: dropped). */
function placeColumns(m: Matrix, cols: Int32Array, J: number): Matrix {
  const [n, k] = m.shape;
  if (!isSparse(m)) {
    const src = m.data as ArrayLike<number>;
    const Out = (m.data as unknown as { constructor: new (len: number) => Float64Array }).constructor;
    const out = new Out(n * J);
    if (out instanceof Float32Array || out instanceof Float64Array) out.fill(Number.NaN);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (cols[c] >= 0) out[i * J + cols[c]] = src[i * k + c];
    return { ...m, data: out, shape: [n, J] } as Matrix;
  }
  const idx = Array.from(m.indices as ArrayLike<number | bigint>, Number);
  const ptr = Array.from(m.indptr as ArrayLike<number | bigint>, Number);
  const data = m.data as ArrayLike<number>;
  const dtype = m.dtype as NumericDType;
  if (m.format === 'csr') {
    const keep: number[] = [];
    const indptr = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      for (let p = ptr[i]; p < ptr[i + 1]; p++) if (cols[idx[p]] >= 0) keep.push(p);
      indptr[i + 1] = keep.length;
    }
    return new CsrMatrix({
      data: takeTyped(data, keep) as never,
      indices: Int32Array.from(keep, (p) => cols[idx[p]]),
      indptr,
      shape: [n, J],
      dtype,
    });
  }
  // CSC: whole columns move; output column j holds input column c with cols[c] = j
  const from = new Int32Array(J).fill(-1);
  cols.forEach((j, c) => {
    if (j >= 0) from[j] = c;
  });
  const keep: number[] = [];
  const indptr = new Int32Array(J + 1);
  for (let j = 0; j < J; j++) {
    const c = from[j];
    if (c >= 0) for (let p = ptr[c]; p < ptr[c + 1]; p++) keep.push(p);
    indptr[j + 1] = keep.length;
  }
  return new CscMatrix({
    data: takeTyped(data, keep) as never,
    indices: Int32Array.from(keep, (p) => idx[p]),
    indptr,
    shape: [n, J],
    dtype,
  });
}

function takeTyped(data: ArrayLike<number>, at: readonly number[]): ArrayLike<number> {
  const Out = (data as unknown as { constructor: new (len: number) => Float64Array }).constructor;
  const out = new Out(at.length);
  at.forEach((p, i) => {
    out[i] = data[p];
  });
  return out;
}

/** Stack matrices of one format (and width) along rows. */
function stack(ms: Matrix[], path: string): Matrix {
  const widths = new Set(ms.map((m) => m.shape[1]));
  const formats = new Set(ms.map((m) => (isSparse(m) ? m.format : 'dense')));
  if (widths.size > 1 || formats.size > 1) {
    throw new UnsupportedError(
      'Unsupported',
      `concat: '/${path}' has ${[...formats].join(' and ')} parts of widths ${[...widths].join(', ')}: they must match`,
      { key: path },
    );
  }
  const n = ms.reduce((s, m) => s + m.shape[0], 0);
  const k = ms[0].shape[1];
  if (ms.every(isDense)) {
    return { ...ms[0], data: concatNumbers(ms.map((m) => m.data as ArrayLike<number>)), shape: [n, k] } as Matrix;
  }
  const sp = ms as (CsrMatrix | CscMatrix)[];
  const dtype = sp[0].dtype as NumericDType;
  const data = concatNumbers(sp.map((m) => m.data as ArrayLike<number>));
  if (sp[0].format === 'csr') {
    const indices = Int32Array.from(sp.flatMap((m) => Array.from(m.indices as ArrayLike<number | bigint>, Number)));
    const indptr = new Int32Array(n + 1);
    let row = 0;
    let base = 0;
    for (const m of sp) {
      const ptr = Array.from(m.indptr as ArrayLike<number | bigint>, Number);
      for (let i = 1; i < ptr.length; i++) indptr[row + i] = base + ptr[i];
      row += m.shape[0];
      base += m.data.length;
    }
    return new CsrMatrix({ data: data as never, indices, indptr: indptr as IndexArray, shape: [n, k], dtype });
  }
  // CSC: column j is the parts' column j one after the other, rows shifted by each part's offset
  const order: number[] = [];
  const rows: number[] = [];
  const indptr = new Int32Array(k + 1);
  const offsets = sp.map((_, i) => sp.slice(0, i).reduce((s, m) => s + m.shape[0], 0));
  const dataBase = sp.map((_, i) => sp.slice(0, i).reduce((s, m) => s + m.data.length, 0));
  const ptrs = sp.map((m) => Array.from(m.indptr as ArrayLike<number | bigint>, Number));
  const idxs = sp.map((m) => Array.from(m.indices as ArrayLike<number | bigint>, Number));
  for (let j = 0; j < k; j++) {
    sp.forEach((_, i) => {
      for (let p = ptrs[i][j]; p < ptrs[i][j + 1]; p++) {
        order.push(dataBase[i] + p);
        rows.push(idxs[i][p] + offsets[i]);
      }
    });
    indptr[j + 1] = order.length;
  }
  return new CscMatrix({
    data: takeTyped(data, order) as never,
    indices: Int32Array.from(rows),
    indptr: indptr as IndexArray,
    shape: [n, k],
    dtype,
  });
}

function concatNumbers(parts: ArrayLike<number>[]): ArrayLike<number> {
  const Out = (parts[0] as unknown as { constructor: new (len: number) => Float64Array }).constructor;
  const out = new Out(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}

/**
 * One obs column from its parts (null: the input lacks it, only in an outer join). Parts of
 * one kind concatenate; a missing part makes the column nullable (or NaN / a missing code).
 */
function concatColumns(parts: (Column | null)[], lengths: number[], name: string): Column {
  const present = parts.filter((p): p is Column => p !== null);
  const kinds = new Set(present.map((p) => (p.kind === 'numeric' ? `numeric ${p.dtype}` : p.kind)));
  if (kinds.size > 1) {
    throw new UnsupportedError('Unsupported', `concat: obs column '${name}' is ${[...kinds].join(' and ')}`, {
      key: `obs/${name}`,
    });
  }
  const first = present[0];
  const values = (c: Column | null, n: number): unknown[] => (c === null ? new Array(n).fill(null) : columnValues(c));
  const all = parts.flatMap((p, i) => values(p, lengths[i]));
  const missing = all.some((v) => v === null);
  switch (first.kind) {
    case 'categorical': {
      // categories in order of first appearance, of the first part's categories' dtype
      const seen = new Map<unknown, number>();
      for (const v of all) if (v !== null && !seen.has(v)) seen.set(v, seen.size);
      const codes = codesArray(seen.size, all.length);
      all.forEach((v, i) => {
        const k = v === null ? -1 : (seen.get(v) as number);
        (codes as unknown as { [i: number]: number | bigint })[i] = codes instanceof BigInt64Array ? BigInt(k) : k;
      });
      return {
        kind: 'categorical',
        codes,
        categories: sameKind(first.categories, [...seen.keys()]),
        ordered: first.ordered,
      };
    }
    case 'string':
    case 'nullable-string':
      return missing || first.kind === 'nullable-string'
        ? col.nullableString(all as (string | null)[], first.kind === 'nullable-string' ? first.naValue : 'NA')
        : col.string(all as string[]);
    case 'bool':
    case 'nullable-boolean': {
      const v = Uint8Array.from(all, (x) => (x ? 1 : 0));
      if (!missing && first.kind === 'bool') return col.bool(v);
      return { kind: 'nullable-boolean', values: v, mask: Uint8Array.from(all, (x) => (x === null ? 1 : 0)) };
    }
    case 'numeric':
    case 'nullable-integer': {
      const dtype = first.dtype;
      const float = dtype.startsWith('float');
      const Out = (
        (first.kind === 'numeric' ? first.data : first.values) as unknown as {
          constructor: new (len: number) => { [i: number]: number | bigint };
        }
      ).constructor;
      const out = new Out(all.length);
      const zero = typeof (first.kind === 'numeric' ? first.data[0] : first.values[0]) === 'bigint' ? 0n : 0;
      all.forEach((x, i) => {
        out[i] = x === null ? (float ? Number.NaN : zero) : (x as number);
      });
      if (float || (!missing && first.kind === 'numeric')) {
        return { kind: 'numeric', dtype, data: out } as unknown as Column;
      }
      return {
        kind: 'nullable-integer',
        dtype,
        values: out,
        mask: Uint8Array.from(all, (x) => (x === null ? 1 : 0)),
      } as unknown as Column;
    }
  }
  return first satisfies Column;
}

/** A plain column of `like`'s kind and dtype holding `values` (categories). */
function sameKind(like: Column, values: unknown[]): CategoricalColumn['categories'] {
  if (like.kind === 'string') return col.string(values as string[]);
  if (like.kind === 'bool') return col.bool(values as boolean[]);
  if (like.kind !== 'numeric') throw new InvalidInputError('InvalidInput', `categories cannot be ${like.kind}`);
  const Out = (like.data as unknown as { constructor: new (len: number) => { [i: number]: unknown } }).constructor;
  const out = new Out(values.length);
  values.forEach((v, i) => {
    out[i] = v;
  });
  return { kind: 'numeric', dtype: like.dtype, data: out } as unknown as CategoricalColumn['categories'];
}
