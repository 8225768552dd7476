// concat: AnnData objects (lazy or in memory) stacked along obs, lazy until toMemory. var is
// aligned by name (inner: the names every input has, in the first input's order; outer: all
// names in order of first appearance), as python's anndata.concat does with its defaults.

import type { CallOptions } from '../../zarr/abort.js';
import { InvalidInputError, UnsupportedError } from '../../zarr/errors.js';
import { AnnData } from '../anndata.js';
import { type CategoricalColumn, type Column, codesArray, col, columnValues, DataFrame } from '../dataframe.js';
import { isDense, isSparse, type Matrix } from '../elems.js';
import { LazyAnnData } from './anndata.js';
import { stackParts } from './stack.js';

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
 * input only its var columns that the join keeps. As python's `anndata.concat` with its
 * defaults: X, and layers and obsm matrices joined like var (outer: every key, an input that
 * lacks one filled; inner: the keys every input has; obsm widths padded / cut by position),
 * obs columns joined like var (missing values marked missing), var with the joined names;
 * uns, varm, obsp and varp are not merged. Fill values are 0 when any part is sparse (the
 * result is then CSR), else NaN; a filled gap promotes the dtype to float64 as numpy does.
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
    const byName = (i: number) => () => parts[i].cols;
    // obsm entries align by position: outer pads to the widest part, inner cuts to the narrowest
    const byPosition = (m: Matrix | null) => (width: number) =>
      Int32Array.from({ length: m?.shape[1] ?? 0 }, (_, c) => (c < width ? c : -1));
    const X = parts.every((p) => p.adata.X !== null)
      ? stackParts(
          parts.map((p, i) => ({ matrix: p.adata.X, rows: p.adata.nObs, cols: byName(i) })),
          J,
          'X',
        )
      : null;
    const keys = (f: (a: AnnData) => Record<string, unknown>) =>
      joinNames(
        parts.map((p) => Object.keys(f(p.adata))),
        this.join,
      );
    const layers = Object.fromEntries(
      keys((a) => a.layers).map((k) => [
        k,
        stackParts(
          parts.map((p, i) => ({ matrix: p.adata.layers[k] ?? null, rows: p.adata.nObs, cols: byName(i) })),
          J,
          `layers/${k}`,
        ),
      ]),
    );
    const obsm = Object.fromEntries(
      keys((a) => a.obsm)
        .filter((k) => parts.every((p) => !(k in p.adata.obsm) || isMatrix(p.adata.obsm[k])))
        .map((k) => {
          const ms = parts.map((p) => (p.adata.obsm[k] ?? null) as Matrix | null);
          const widths = ms.flatMap((m) => (m === null ? [] : [m.shape[1]]));
          const width = this.join === 'outer' ? Math.max(...widths) : Math.min(...widths);
          const stackable = ms.map((m, i) => ({ matrix: m, rows: parts[i].adata.nObs, cols: byPosition(m) }));
          return [k, stackParts(stackable, width, `obsm/${k}`)];
        }),
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

function isMatrix(x: unknown): x is Matrix {
  return (isDense(x) && x.shape.length === 2) || isSparse(x);
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
