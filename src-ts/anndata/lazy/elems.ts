// Lazy elements: a description (metadata only) plus the selection of the view it belongs to.
// Nothing is read until get / toMemory; every read goes through the encoding's materialize, so
// a lazy read returns exactly what the eager reader returns for the same selection.

import type { CallOptions } from '../../zarr/abort.js';
import type { DataType } from '../../zarr/dtype.js';
import { NotFoundError } from '../../zarr/errors.js';
import { type AxisSel, allOf, checkAxis, compose, type LazySelection, pickList, toElemAxis } from '../axis.js';
import type { Column, DataFrame } from '../dataframe.js';
import type { Matrix } from '../elems.js';
import { asColumn } from '../encodings/columns.js';
import { type ElemDesc, elemPath, joinPath } from '../registry.js';
import type { LazyCtx } from './context.js';

/** How a lazy element reads: its description, the shared context, its axis selections. */
interface Source {
  readonly desc: ElemDesc;
  readonly ctx: LazyCtx;
  /** One selection per leading axis (rows; rows and columns for 2-D elements). */
  readonly axes: readonly AxisSel[];
}

const AXIS_NAMES = ['rows', 'columns'];

function axesOf(desc: ElemDesc, nAxes: number): AxisSel[] {
  const shape = desc.shape ?? [];
  return shape.slice(0, nAxes).map((n) => allOf(n));
}

/** Compose user selections (one per leading axis) onto the source's. */
function narrowed(src: Source, sels: readonly (LazySelection | undefined)[]): AxisSel[] {
  return src.axes.map((outer, i) =>
    compose(outer, checkAxis(sels[i], outer.length, { path: src.desc.path, axis: AXIS_NAMES[i] ?? `axis ${i}` })),
  );
}

function read(src: Source, axes: readonly AxisSel[], opts: CallOptions): Promise<unknown> {
  return src.ctx.withSignal(opts.signal).materialize(src.desc, axes.map(toElemAxis));
}

/** A lazy dense or sparse (CSR / CSC) matrix: X, a layer, an obsm/varm/obsp/varp entry. */
export class LazyMatrix {
  readonly #src: Source;

  /** @internal built by readLazy / readElemLazy */
  constructor(desc: ElemDesc, ctx: LazyCtx, axes?: readonly AxisSel[]) {
    this.#src = { desc, ctx, axes: axes ?? axesOf(desc, 2) };
  }

  /** Store path of the element. */
  get path(): string {
    return this.#src.desc.path;
  }
  /** 'dense', 'csr' or 'csc'. */
  get format(): 'dense' | 'csr' | 'csc' {
    const t = this.#src.desc.spec.encodingType;
    return t === 'csr_matrix' ? 'csr' : t === 'csc_matrix' ? 'csc' : 'dense';
  }
  /** The shape of this view (trailing axes of dense arrays are kept whole). */
  get shape(): number[] {
    const full = this.#src.desc.shape ?? [];
    return [...this.#src.axes.map((a) => a.length), ...full.slice(this.#src.axes.length)];
  }
  get dtype(): DataType {
    return this.#src.desc.dtype as DataType;
  }

  /**
   * Read `obsSel` x `varSel` of this view: slices, integer positions (unsorted, repeated, in the
   * asked order; negative from the end), boolean masks, null for all. Returns what the eager
   * reader returns: a dense array, a CsrMatrix or a CscMatrix.
   */
  async get(obsSel?: LazySelection, varSel?: LazySelection, opts: CallOptions = {}): Promise<Matrix> {
    return (await read(this.#src, narrowed(this.#src, [obsSel, varSel]), opts)) as Matrix;
  }

  /** A view of `obsSel` x `varSel` (no I/O). */
  select(obsSel?: LazySelection, varSel?: LazySelection): LazyMatrix {
    return new LazyMatrix(this.#src.desc, this.#src.ctx, narrowed(this.#src, [obsSel, varSel]));
  }

  /** Read the whole view. */
  toMemory(opts: CallOptions = {}): Promise<Matrix> {
    return this.get(null, null, opts);
  }
}

/** A lazy dataframe column: `get` reads only this column (and only the asked rows). */
export class LazyColumn {
  readonly #src: Source;

  /** @internal */
  constructor(
    readonly name: string,
    src: Source,
  ) {
    this.#src = src;
  }

  get path(): string {
    return this.#src.desc.path;
  }
  /** Rows of this view. */
  get length(): number {
    return this.#src.axes[0].length;
  }
  /** The stored encoding ('categorical', 'array', 'nullable-integer', ...). */
  get encodingType(): string {
    return this.#src.desc.spec.encodingType;
  }
  /** The value dtype (categoricals: of their categories). */
  get dtype(): DataType | null {
    return this.#src.desc.dtype;
  }

  /** Read the column, or rows `sel` of this view. A categorical reads its categories once. */
  async get(sel?: LazySelection, opts: CallOptions = {}): Promise<Column> {
    return asColumn(await read(this.#src, narrowed(this.#src, [sel]), opts), this.#src.desc.path);
  }
}

/** A lazy dataframe (obs, var, a dataframe in obsm): columns from metadata, values on demand. */
export class LazyDataFrame {
  readonly #src: Source;
  readonly #index: readonly string[] | null;

  /**
   * @internal `index`: the whole stored index when it was loaded at open (a view picks its
   * rows from it without I/O).
   */
  constructor(desc: ElemDesc, ctx: LazyCtx, rows?: AxisSel, index: readonly string[] | null = null) {
    this.#src = { desc, ctx, axes: [rows ?? allOf(desc.shape?.[0] ?? 0)] };
    this.#index = index;
  }

  get path(): string {
    return this.#src.desc.path;
  }
  /** Rows of this view. */
  get nRows(): number {
    return this.#src.axes[0].length;
  }
  /** Column names in `column-order` (the index is not a column). */
  get columns(): string[] {
    return [...(this.#src.desc.extra.order as string[])];
  }
  /** The name of the index (null when unnamed, stored as `_index`). */
  get indexName(): string | null {
    const k = this.#src.desc.extra.indexKey as string;
    return k === '_index' ? null : k;
  }

  /** Column `name` of this view; throws NotFound naming the dataframe for an unknown name. */
  column(name: string): LazyColumn {
    const order = this.#src.desc.extra.order as string[];
    const d = order.includes(name) ? this.#src.desc.children[name] : undefined;
    if (d === undefined) {
      const path = joinPath(this.path, name);
      throw new NotFoundError(
        'NotFound',
        `'${elemPath(this.path)}' has no column '${name}' (columns: ${order.join(', ') || 'none'})`,
        { key: path },
      );
    }
    return new LazyColumn(name, { desc: d, ctx: this.#src.ctx, axes: this.#src.axes });
  }

  /** The index of this view's rows, as strings, when the index was loaded at open. */
  get indexValues(): string[] | null {
    if (this.#index === null) return null;
    return pickList(this.#index, this.#src.axes[0]);
  }

  /** A view of rows `sel` (no I/O). */
  select(sel?: LazySelection): LazyDataFrame {
    const [rows] = narrowed(this.#src, [sel]);
    return new LazyDataFrame(this.#src.desc, this.#src.ctx, rows, this.#index);
  }

  /** Read the index and every column of this view, concurrently. */
  async toMemory(opts: CallOptions = {}): Promise<DataFrame> {
    return (await read(this.#src, this.#src.axes, opts)) as DataFrame;
  }

  /** Rows `sel` of this view (all when omitted) as an Arrow table. */
  async toArrow(sel?: LazySelection, opts: CallOptions = {}): Promise<import('apache-arrow').Table> {
    return (await this.select(sel).toMemory(opts)).toArrow();
  }
}

/** Any other element (uns, an awkward array in obsm, ...): read whole (or by rows) on demand. */
export class LazyValue {
  readonly #src: Source;

  /** @internal */
  constructor(desc: ElemDesc, ctx: LazyCtx, axes: readonly AxisSel[] = []) {
    this.#src = { desc, ctx, axes };
  }

  get path(): string {
    return this.#src.desc.path;
  }
  /** The stored encoding type. */
  get encodingType(): string {
    return this.#src.desc.spec.encodingType;
  }

  toMemory(opts: CallOptions = {}): Promise<unknown> {
    return read(this.#src, this.#src.axes, opts);
  }
}

export type LazyElem = LazyMatrix | LazyDataFrame | LazyValue;

/**
 * The lazy element of `desc`, viewed through `axes` (for elements aligned to obs / var:
 * obsm rows, obsp rows and columns, ...).
 */
export function lazyElem(desc: ElemDesc, ctx: LazyCtx, axes?: readonly AxisSel[]): LazyElem {
  if (desc.kind === 'dense' || desc.kind === 'sparse') return new LazyMatrix(desc, ctx, fill(desc, axes, 2));
  if (desc.kind === 'dataframe') return new LazyDataFrame(desc, ctx, axes?.[0]);
  return new LazyValue(desc, ctx, axes ?? []);
}

/** `axes` completed with "all" for the element's remaining leading axes (up to `n`). */
function fill(desc: ElemDesc, axes: readonly AxisSel[] | undefined, n: number): AxisSel[] {
  const shape = (desc.shape ?? []).slice(0, n);
  return shape.map((len, i) => axes?.[i] ?? allOf(len));
}
