// readLazy / readElemLazy and LazyAnnData: open a store with its metadata alone (one request
// when consolidated), then views (select) without I/O, and reads of only what a view covers
// (toMemory, element get, iterate) through the same registry the eager reader uses.

import type { CallOptions } from '../../zarr/abort.js';
import type { ZArray } from '../../zarr/array.js';
import { InvalidInputError, InvalidMetadataError } from '../../zarr/errors.js';
import { type Group, openGroup } from '../../zarr/group.js';
import { slice } from '../../zarr/selection.js';
import { resolveStore, type Store, type StoreLike } from '../../zarr/store.js';
import { type AlignedElem, AnnData, type AnnDataInit, type Raw } from '../anndata.js';
import { type AxisSel, allOf, checkAxis, compose, type LazySelection, pickList, toElemAxis } from '../axis.js';
import { type CodesArray, type Column, columnLength, type DataFrame, indexStrings } from '../dataframe.js';
import type { Matrix } from '../elems.js';
import { asColumn } from '../encodings/columns.js';
import { describeAnnData } from '../io.js';
import type { ReadOptions } from '../options.js';
import { type ElemDesc, elemPath, isGroup, type Node } from '../registry.js';
import { LazyCtx } from './context.js';
import { LazyDataFrame, type LazyElem, LazyMatrix, lazyElem } from './elems.js';

export interface ReadLazyOptions extends ReadOptions {
  /** Group path of the AnnData inside the store (default: the root). */
  path?: string;
  /** Read the obs and var indexes at open (default true), so views know their names. */
  loadIndex?: boolean;
  /**
   * The zarr format when known: 2 skips the `zarr.json` probe of a v2 store (one request less).
   * Without it, a Store object remembers the format an earlier readLazy found at the path.
   */
  zarrFormat?: 2 | 3;
}

const MAPPINGS = ['layers', 'obsm', 'varm', 'obsp', 'varp'] as const;
/** Which view axes each mapping's entries are aligned to. */
const ALIGNED: Record<(typeof MAPPINGS)[number], ('obs' | 'var')[]> = {
  layers: ['obs', 'var'],
  obsm: ['obs'],
  varm: ['var'],
  obsp: ['obs', 'obs'],
  varp: ['var', 'var'],
};

/** What every view of one opened store shares. */
interface Opened {
  readonly ctx: LazyCtx;
  readonly desc: ElemDesc;
  readonly obsIndex: readonly string[] | null;
  readonly varIndex: readonly string[] | null;
}

const warned = new Set<string>();

/**
 * Open an AnnData store lazily: metadata only (on a consolidated store exactly one request,
 * plus the obs/var index reads unless `{ loadIndex: false }`). A store without consolidated
 * metadata works too (with a warning): only the keys the AnnData layout names are probed.
 */
export async function readLazy(store: StoreLike, opts: ReadLazyOptions = {}): Promise<LazyAnnData> {
  const g = await openRemembering(await resolveStore(store), opts);
  warnUnconsolidated(g);
  const { ctx, desc } = await describeAnnData(g, opts, (legacy) => new LazyCtx(opts, legacy, g.consolidated));
  return openedAnnData(ctx, desc, opts.loadIndex !== false);
}

/**
 * One element, lazily: an AnnData group becomes a LazyAnnData, a matrix a LazyMatrix, a
 * dataframe a LazyDataFrame, anything else a LazyValue.
 */
export async function readElemLazy(
  node: Node,
  opts: ReadOptions & { loadIndex?: boolean } = {},
): Promise<LazyAnnData | LazyElem> {
  const consolidated = isGroup(node) && node.consolidated;
  if (isGroup(node)) warnUnconsolidated(node);
  const ctx = new LazyCtx(opts, false, consolidated);
  const desc = await ctx.describeNode(node);
  const loadIndex = opts.loadIndex !== false;
  if (desc.kind === 'anndata') return openedAnnData(ctx, desc, loadIndex);
  if (desc.kind === 'dataframe' && loadIndex) {
    return new LazyDataFrame(desc, ctx, undefined, await indexOf(ctx, desc));
  }
  return lazyElem(desc, ctx);
}

/**
 * Formats found by earlier opens, per Store object and path. A v2 store cannot be told from a
 * v3 one before a request: v3 metadata wins where a path holds both (the zarr spec), so
 * `.zmetadata` can only be trusted once `zarr.json` is known to be absent, which costs the
 * probe; probing `.zmetadata` first would cost every v3 store that extra request instead. So
 * the first open of a v2 store without `{ zarrFormat: 2 }` is two requests, later opens
 * through the same Store one.
 */
const formats = new WeakMap<Store, Map<string, 2 | 3>>();

async function openRemembering(store: Store, opts: ReadLazyOptions): Promise<Group> {
  const path = opts.path ?? '';
  let known = formats.get(store);
  const remembered = opts.zarrFormat ?? known?.get(path);
  const open = (zarrFormat: 2 | 3 | undefined) => openGroup(store, path, { signal: opts.signal, zarrFormat });
  // a remembered format that no longer opens (the store was rewritten) is probed afresh
  const g =
    opts.zarrFormat === undefined && remembered !== undefined
      ? await open(remembered).catch(() => open(undefined))
      : await open(remembered);
  if (!known) {
    known = new Map();
    formats.set(store, known);
  }
  known.set(path, g.zarrFormat);
  return g;
}

function warnUnconsolidated(g: Group): void {
  const where = `${g.store.location}:${g.path}`;
  if (g.consolidated || warned.has(where)) return;
  warned.add(where);
  process.emitWarning(
    `'${elemPath(g)}' of ${g.store.location} has no consolidated metadata: every element's metadata is a request of its own (consolidate the store to open it with one)`,
    { code: 'ZARRS_NODE_UNCONSOLIDATED' },
  );
}

async function openedAnnData(ctx: LazyCtx, desc: ElemDesc, loadIndex: boolean): Promise<LazyAnnData> {
  for (const key of ['obs', 'var']) {
    if (desc.children[key]?.kind !== 'dataframe') {
      const path = desc.path === '' ? key : `${desc.path}/${key}`;
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' should be a dataframe`, { key: path });
    }
  }
  const [obsIndex, varIndex] = loadIndex
    ? await Promise.all([indexOf(ctx, desc.children.obs), indexOf(ctx, desc.children.var)])
    : [null, null];
  const [n, m] = desc.shape ?? [0, 0];
  return new LazyAnnData({ ctx, desc, obsIndex, varIndex }, allOf(n), allOf(m));
}

/** Read the index of a dataframe description, as strings. */
async function indexOf(ctx: LazyCtx, frame: ElemDesc): Promise<string[]> {
  const index = frame.children[frame.extra.indexKey as string];
  return indexStrings(asColumn(await ctx.materialize(index), index.path));
}

/** A lazy AnnData (or a view of one): element handles and the obs / var selections. */
export class LazyAnnData {
  readonly #o: Opened;
  readonly #obs: AxisSel;
  readonly #var: AxisSel;

  /** @internal built by readLazy */
  constructor(opened: Opened, obs: AxisSel, vars: AxisSel) {
    this.#o = opened;
    this.#obs = obs;
    this.#var = vars;
  }

  get nObs(): number {
    return this.#obs.length;
  }
  get nVars(): number {
    return this.#var.length;
  }
  get shape(): [number, number] {
    return [this.nObs, this.nVars];
  }
  /** The obs names of this view (loaded at open). */
  get obsNames(): string[] {
    return this.#names(this.#o.obsIndex, this.#obs, 'obs');
  }
  /** The var names of this view (loaded at open). */
  get varNames(): string[] {
    return this.#names(this.#o.varIndex, this.#var, 'var');
  }

  #names(index: readonly string[] | null, sel: AxisSel, axis: string): string[] {
    if (index === null) {
      throw new InvalidInputError(
        'InvalidInput',
        `'${elemPath(`${this.#o.desc.path}${this.#o.desc.path ? '/' : ''}${axis}`)}': the index was not loaded (readLazy with { loadIndex: false })`,
        { key: axis },
      );
    }
    return pickList(index, sel);
  }

  get obs(): LazyDataFrame {
    return this.#frame('obs', this.#obs, this.#o.obsIndex);
  }
  get var(): LazyDataFrame {
    return this.#frame('var', this.#var, this.#o.varIndex);
  }

  #frame(key: 'obs' | 'var', rows: AxisSel, index: readonly string[] | null): LazyDataFrame {
    return new LazyDataFrame(this.#o.desc.children[key], this.#o.ctx, rows, index);
  }

  get X(): LazyMatrix | null {
    const d = this.#o.desc.children.X;
    if (d === undefined || (d.kind !== 'dense' && d.kind !== 'sparse')) return null;
    return new LazyMatrix(d, this.#o.ctx, [this.#obs, this.#var]);
  }
  get layers(): Record<string, LazyElem> {
    return this.#mapping('layers');
  }
  get obsm(): Record<string, LazyElem> {
    return this.#mapping('obsm');
  }
  get varm(): Record<string, LazyElem> {
    return this.#mapping('varm');
  }
  get obsp(): Record<string, LazyElem> {
    return this.#mapping('obsp');
  }
  get varp(): Record<string, LazyElem> {
    return this.#mapping('varp');
  }
  /** uns as described (nothing read): `toMemory()` reads it. */
  get uns(): LazyElem | null {
    const d = this.#o.desc.children.uns;
    return d === undefined ? null : lazyElem(d, this.#o.ctx);
  }

  #mapping(key: (typeof MAPPINGS)[number]): Record<string, LazyElem> {
    const d = this.#o.desc.children[key];
    if (d === undefined) return {};
    const axes = ALIGNED[key].map((a) => (a === 'obs' ? this.#obs : this.#var));
    return Object.fromEntries(Object.entries(d.children).map(([k, c]) => [k, lazyElem(c, this.#o.ctx, axes)]));
  }

  /**
   * A view of rows `obsSel` and columns `varSel` of this view (slices, integer positions,
   * boolean masks; null for all). No I/O; views compose.
   */
  select(obsSel?: LazySelection, varSel?: LazySelection): LazyAnnData {
    const path = this.#o.desc.path;
    const obs = compose(this.#obs, checkAxis(obsSel, this.nObs, { path, axis: 'obs' }));
    const vars = compose(this.#var, checkAxis(varSel, this.nVars, { path, axis: 'var' }));
    return new LazyAnnData(this.#o, obs, vars);
  }

  /** Read everything this view covers (only that), all elements concurrently. */
  async toMemory(opts: CallOptions = {}): Promise<AnnData> {
    const ctx = this.#o.ctx.withSignal(opts.signal);
    const c = this.#o.desc.children;
    const mem = (e: { toMemory(o: CallOptions): Promise<unknown> } | null) => (e === null ? null : e.toMemory(opts));
    const mapping = async (key: (typeof MAPPINGS)[number]) => {
      const entries = Object.entries(this.#mapping(key));
      const values = await Promise.all(entries.map(([, e]) => e.toMemory(opts)));
      return Object.fromEntries(entries.map(([k], i) => [k, values[i]]));
    };
    const [X, obs, vars, uns, raw, ...maps] = await Promise.all([
      mem(this.X),
      this.obs.toMemory(opts),
      this.var.toMemory(opts),
      mem(this.uns),
      this.#raw(ctx, c),
      ...MAPPINGS.map(mapping),
    ]);
    // as python's AnnData views: a subset's categoricals keep only the categories it uses
    if (this.#obs.kind !== 'all') removeUnusedCategories(obs as DataFrame);
    if (this.#var.kind !== 'all') removeUnusedCategories(vars as DataFrame);
    const init: AnnDataInit = {
      X: X as Matrix | null,
      obs: obs as DataFrame,
      var: vars as DataFrame,
      uns: (uns ?? {}) as Record<string, unknown>,
      raw,
      layers: maps[0] as Record<string, Matrix>,
      obsm: maps[1] as Record<string, AlignedElem>,
      varm: maps[2] as Record<string, AlignedElem>,
      obsp: maps[3] as Record<string, Matrix>,
      varp: maps[4] as Record<string, Matrix>,
    };
    return new AnnData(init);
  }

  /** raw: its X rows of this view (all of raw's var), raw.var and raw.varm whole. */
  async #raw(ctx: LazyCtx, c: Readonly<Record<string, ElemDesc>>): Promise<Raw | null> {
    const r = c.raw;
    if (r === undefined || r.kind !== 'anndata-raw' || r.children.X === undefined) return null;
    const [X, vr, varm] = await Promise.all([
      ctx.materialize(r.children.X, [toElemAxis(this.#obs)]),
      r.children.var ? ctx.materialize(r.children.var) : undefined,
      r.children.varm ? ctx.materialize(r.children.varm) : undefined,
    ]);
    return { X, var: vr, varm: varm ?? {} } as Raw;
  }

  /**
   * Row (or column) blocks of this view as in-memory AnnData objects, the next block read
   * while the caller works on the current one (so at most two blocks are in memory).
   * `batchSize: 'shard'` aligns blocks to X's shards (or chunks when unsharded). Stops on
   * `break` and throws Aborted when `signal` fires.
   */
  async *iterate(opts: {
    batchSize: number | 'shard';
    axis?: 'obs' | 'var';
    signal?: AbortSignal;
  }): AsyncGenerator<AnnData> {
    const axis = opts.axis ?? 'obs';
    const n = axis === 'obs' ? this.nObs : this.nVars;
    const size = opts.batchSize === 'shard' ? this.#shardLength(axis) : opts.batchSize;
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new InvalidInputError(
        'InvalidInput',
        `iterate: batchSize must be a positive integer or 'shard', got ${opts.batchSize}`,
      );
    }
    const block = (start: number) => {
      const s = slice(start, Math.min(n, start + size));
      const p = (axis === 'obs' ? this.select(s) : this.select(null, s)).toMemory({ signal: opts.signal });
      p.catch(() => {}); // a prefetch dropped by `break` must not be an unhandled rejection
      return p;
    };
    let next = n > 0 ? block(0) : null;
    for (let start = 0; next !== null; start += size) {
      const current = next;
      next = start + size < n ? block(start + size) : null;
      yield await current;
    }
  }

  /** Rows (or columns) per shard of X along `axis`: the natural block of a streaming read. */
  #shardLength(axis: 'obs' | 'var'): number {
    const d = this.#o.desc.children.X;
    const i = axis === 'obs' ? 0 : 1;
    const along = (a: ZArray, k: number) => (a.shards ?? a.chunks)[k];
    if (d?.kind === 'dense') return along(d.arrays.self, i);
    if (d?.kind === 'sparse') {
      const majorAxis = d.spec.encodingType === 'csr_matrix' ? 0 : 1;
      const data = d.arrays.data;
      const nnz = data.shape[0];
      const nMajor = (d.shape as number[])[majorAxis];
      // a data shard holds about nMajor * shard / nnz major rows
      if (majorAxis === i && nnz > 0) return Math.max(1, Math.round((nMajor * along(data, 0)) / nnz));
    }
    const frame = this.#o.desc.children[axis];
    const idx = frame?.children[frame.extra.indexKey as string]?.arrays;
    const a = idx?.self ?? idx?.values;
    return a ? along(a, 0) : Math.max(1, axis === 'obs' ? this.nObs : this.nVars);
  }
}

/** Drop the categories no row uses from every categorical column of `df` (codes renumbered). */
function removeUnusedCategories(df: DataFrame): void {
  for (const name of df.columns) {
    const c = df.get(name);
    if (c.kind !== 'categorical') continue;
    const n = columnLength(c.categories);
    const used = new Uint8Array(n);
    for (let i = 0; i < c.codes.length; i++) {
      const k = Number(c.codes[i]);
      if (k >= 0) used[k] = 1;
    }
    if (used.every((u) => u === 1)) continue;
    const keep: number[] = [];
    const renumber = new Int32Array(n).fill(-1);
    for (let k = 0; k < n; k++) if (used[k]) renumber[k] = keep.push(k) - 1;
    const codes = c.codes.slice() as CodesArray;
    for (let i = 0; i < codes.length; i++) {
      const k = Number(codes[i]);
      const v = k < 0 ? k : renumber[k];
      (codes as unknown as { [i: number]: number | bigint })[i] = codes instanceof BigInt64Array ? BigInt(v) : v;
    }
    df.set(name, { ...c, codes, categories: pickRows(c.categories, keep) as typeof c.categories });
  }
}

/** Rows `at` of a plain (numeric, bool, string) column. */
function pickRows(c: Column, at: readonly number[]): Column {
  if (c.kind === 'string') return { ...c, data: at.map((i) => c.data[i]) };
  if (c.kind === 'numeric' || c.kind === 'bool') {
    type Indexable = { [i: number]: number | bigint; constructor: new (n: number) => Indexable };
    const src = c.data as unknown as Indexable;
    const out = new src.constructor(at.length);
    at.forEach((k, i) => {
      out[i] = src[k];
    });
    return { ...c, data: out } as unknown as Column;
  }
  return c;
}
