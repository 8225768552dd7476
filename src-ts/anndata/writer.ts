// AnnDataWriter: a streaming, bounded-memory AnnData writer for row blocks. Rows are buffered per
// array until whole shards are ready, each shard is written once; the store stays unfinished
// (opens as `Incomplete`) until close(), and a killed writer resumes from its last durable rows.

import type { ZArray } from '../zarr/array.js';
import { type DataType, inferDType, type NumericDType, type NumericTypedArray, typedArray } from '../zarr/dtype.js';
import { InvalidInputError, zarrsError } from '../zarr/errors.js';
import { consolidateMetadata, createArray, createGroup, openArray, openGroup, UNFINISHED_KEY } from '../zarr/group.js';
import { slice } from '../zarr/selection.js';
import { resolveStore, type Store, type StoreLike } from '../zarr/store.js';
import { compareCodePoints, stringsToCategorical } from './categoricals.js';
import { type CategoricalColumn, type Column, codesArray, DataFrame } from './dataframe.js';
import { CsrMatrix, type Dense, isDense, type Matrix, validateCompressed } from './elems.js';
import { writePlainColumn } from './encodings/dense.js';
import type { WriteZarrOptions } from './io.js';
import { type ArrayRole, arrayCompressors, type Layout, layoutFor } from './layout.js';
import type { WriteOptions } from './options.js';
import { encodingAttrs, WriteCtx } from './registry.js';

/** How a streamed matrix (X, a layer, an obsm entry) is stored. */
export interface MatrixSpec {
  format: 'csr' | 'dense';
  dtype: NumericDType;
}

/** One obs column of the schema every block must follow. */
export interface ObsColumnSpec {
  name: string;
  kind: Column['kind'];
  /** Element type of numeric and nullable-integer columns. */
  dtype?: NumericDType;
  /** Categorical: fixed categories, kept in this order; default: gathered and sorted at close. */
  categories?: string[];
  ordered?: boolean;
  /** Nullable strings: how pandas spells missing (default 'NA'). */
  naValue?: 'NA' | 'NaN';
}

export interface ObsSchema {
  /** The index name (null = unnamed, stored as `_index`). The index holds strings. */
  indexName?: string | null;
  columns: ObsColumnSpec[];
}

export interface AnnDataWriterOptions extends Pick<WriteZarrOptions, 'zarrFormat' | 'shards' | 'compressor'> {
  /** The variables, written whole at create (string columns that repeat become categoricals). */
  var: DataFrame;
  /** The obs columns of every block; default: those of the first block. */
  obsSchema?: ObsSchema;
  X: MatrixSpec;
  layers?: Record<string, MatrixSpec>;
  /** obsm entries: `width` columns each. */
  obsm?: Record<string, MatrixSpec & { width: number }>;
  /** Replace whatever the store holds (default: refuse a non-empty store). */
  overwrite?: boolean;
  /**
   * The most rows a killed writer loses (plus the block being appended, and see the CSR note in
   * the README): row-indexed arrays get shards of at most this many rows. Default 65,536.
   */
  checkpointRows?: number;
}

export interface AnnDataBlock {
  X: Matrix;
  obs: DataFrame;
  layers?: Record<string, Matrix>;
  obsm?: Record<string, Matrix>;
}

/** What the marker holds: everything `resume` needs, as of the last durable row. */
interface WriterState {
  writer: 'AnnDataWriter';
  version: 1;
  zarrFormat: 2 | 3;
  shards: WriteOptions['shards'];
  compressor?: WriteOptions['compressor'];
  /** Absent in markers of writers before the option: no cap. */
  checkpointRows?: number;
  nVars: number;
  /** Matrices by store path ('X', 'layers/<name>', 'obsm/<name>'), with their width. */
  matrices: Record<string, MatrixSpec & { width: number }>;
  obs: ObsSchema | null;
  /** Rows every array holds durably, and the nnz of each CSR matrix at that row. */
  rows: number;
  nnz: Record<string, number>;
  /** Gathered categories (first-seen order) with the row each first appeared at. */
  categories: Record<string, { values: string[]; firstRows: number[] }>;
}

type Values = NumericTypedArray | string[];

/** A row count and, per CSR matrix, the nnz up to it: a point rows can be truncated to. */
interface Cut {
  rows: number;
  nnz: Record<string, number>;
}

/** Shapes far beyond any dataset: the sharding policy then sizes shards as for a huge array. */
const NOMINAL_ROWS = 2 ** 40;
/**
 * Default `checkpointRows`. X's CSR shards (16M values by default) hold 16k rows at 1,000
 * non-zeros per row and 160k at 100: a cap of that order keeps the obs arrays from dominating what
 * a kill loses (and what the writer buffers) without cutting them into many small files.
 */
const DEFAULT_CHECKPOINT_ROWS = 65_536;

/**
 * The layout of a streamed array: the policy's (layout.ts / layout.rs, for an array of unbounded
 * length), with axis 0 capped at `cap` rows for row-indexed arrays. A stream is durable only up
 * to its last whole shard, so its shard rows are both what a kill loses and what it buffers.
 * Sparse `data`/`indices` are indexed by non-zeros, not rows, and keep the policy's shards. This
 * is the one place the writer departs from the policy, by explicit `chunks`/`shards`.
 */
function streamLayout(role: ArrayRole, rowShape: number[], dtype: DataType, opts: WriteOptions, cap?: number): Layout {
  const l = layoutFor(role, [NOMINAL_ROWS, ...rowShape], dtype, opts);
  const rows = (l.shards ?? l.chunks)[0];
  if (role === 'sparse' || cap === undefined || rows <= cap) return l;
  const inner = l.chunks[0];
  // whole inner chunks per shard; a shard of one chunk would only add an index: unsharded
  if (l.shards !== undefined && inner * 2 <= cap) {
    return { chunks: l.chunks, shards: [Math.floor(cap / inner) * inner, ...l.shards.slice(1)] };
  }
  return { chunks: [Math.min(inner, cap), ...l.chunks.slice(1)] };
}

/**
 * The writer's shard appends, one at a time: the native side copies and encodes a shard (in
 * parallel over its inner chunks, on every thread), so two at once would only add a shard's
 * worth of memory (X's data and indices fill their shards at the same row), not speed.
 */
class Lane {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(f: () => Promise<T>): Promise<T> {
    const r = this.#tail.then(f);
    this.#tail = r.catch(() => {});
    return r;
  }
}

/**
 * One growing array fed in pieces: values are copied into one shard-sized buffer (allocated at the
 * first write and reused), which is appended whenever it is full; the rest waits for the next
 * write or `finish()`. So a stream holds at most one shard, and copies each value once before the
 * native encode. `at(cut)` is the axis-0 length that corresponds to a cut.
 */
class Stream {
  #buf: Values | null = null;
  /** Rows in the buffer. */
  #len = 0;

  constructor(
    readonly array: ZArray,
    readonly rowShape: number[],
    readonly extent: number,
    public flushed: number,
    readonly at: (cut: Cut) => number,
    readonly lane: Lane,
  ) {}

  get #rowElems(): number {
    return this.rowShape.reduce((a, b) => a * b, 1);
  }

  /** Buffer `v` (copied: the caller may reuse its buffers), appending every shard it completes. */
  async write(v: Values): Promise<void> {
    const e = this.#rowElems;
    let from = 0;
    while (from < v.length) {
      // a resumed stream may start mid-shard: fill only up to the next shard boundary
      const room = this.extent - (this.flushed % this.extent) - this.#len;
      const rows = Math.min(room, (v.length - from) / e);
      const buf = this.#buffer();
      if (Array.isArray(buf)) {
        for (let i = 0; i < rows * e; i++) buf[this.#len * e + i] = (v as string[])[from + i];
      } else {
        buf.set((v as NumericTypedArray).subarray(from, from + rows * e) as never, this.#len * e);
      }
      this.#len += rows;
      from += rows * e;
      if (rows === room) await this.#append();
    }
  }

  /** Append what the buffer holds (the last, partial shard). */
  async finish(): Promise<void> {
    if (this.#len > 0) await this.#append();
    this.#buf = null;
  }

  /** The buffer, of the array's dtype (so a block's values are converted, if at all, here). */
  #buffer(): Values {
    if (this.#buf === null) {
      const n = this.extent * this.#rowElems;
      const dtype = this.array.dtype;
      this.#buf = dtype === 'string' ? new Array<string>(n) : typedArray(dtype as NumericDType, n);
    }
    return this.#buf;
  }

  async #append(): Promise<void> {
    const n = this.#len * this.#rowElems;
    const buf = this.#buf as Values;
    // the native call reads the values before it resolves: the buffer is reused after it
    const data = n === buf.length ? buf : Array.isArray(buf) ? buf.slice(0, n) : buf.subarray(0, n);
    await this.lane.run(() => this.array.append({ data, shape: [this.#len, ...this.rowShape] } as never, 0));
    this.flushed += this.#len;
    this.#len = 0;
  }
}

/** The gathered categories of a categorical column. */
class Dictionary {
  readonly index = new Map<string, number>();
  constructor(
    readonly values: string[] = [],
    readonly firstRows: number[] = [],
    readonly fixed = false,
  ) {
    values.forEach((v, i) => {
      this.index.set(v, i);
    });
  }

  /** The code of `v`, adding it (first seen at `row`) unless the categories are fixed. */
  code(v: string, row: number): number | undefined {
    let k = this.index.get(v);
    if (k === undefined && !this.fixed) {
      k = this.values.length;
      this.index.set(v, k);
      this.values.push(v);
      this.firstRows.push(row);
    }
    return k;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DICT = encodingAttrs({ encodingType: 'dict', encodingVersion: '0.1.0' });
const ARRAY = encodingAttrs({ encodingType: 'array', encodingVersion: '0.2.0' });
const STRING_ARRAY = encodingAttrs({ encodingType: 'string-array', encodingVersion: '0.2.0' });
/** The directory of the marker, removed by close() (with the scratch arrays under it). */
const MARKER_DIR = UNFINISHED_KEY.slice(0, UNFINISHED_KEY.indexOf('/'));
/** Streamed categorical codes wait here (int32) until close() sorts the categories. */
const SCRATCH = `${MARKER_DIR}/writer`;

function invalid(path: string, block: number, msg: string): InvalidInputError {
  return new InvalidInputError('InvalidInput', `append #${block}: '/${path}' ${msg}`, { key: path });
}

const dtypeOf = (m: Matrix, path: string): string =>
  m instanceof CsrMatrix ? m.dtype : ((m as Dense).dtype ?? inferDType((m as Dense).data, path));

/** The schema of a block's obs (categories are gathered, not fixed). */
function schemaOf(df: DataFrame): ObsSchema {
  return {
    indexName: df.indexName,
    columns: df.columns.map((name) => {
      const c = df.get(name);
      const spec: ObsColumnSpec = { name, kind: c.kind };
      if (c.kind === 'numeric' || c.kind === 'nullable-integer') spec.dtype = c.dtype;
      if (c.kind === 'categorical') spec.ordered = c.ordered;
      if (c.kind === 'nullable-string') spec.naValue = c.naValue;
      return spec;
    }),
  };
}

/** The 1-D arrays a column kind is stored in, relative to the column's key ('' = the column itself). */
function columnParts(spec: ObsColumnSpec): { part: string; dtype: string }[] {
  switch (spec.kind) {
    case 'numeric':
      return [{ part: '', dtype: spec.dtype ?? 'float64' }];
    case 'bool':
      return [{ part: '', dtype: 'bool' }];
    case 'string':
      return [{ part: '', dtype: 'string' }];
    case 'categorical':
      return [{ part: 'codes', dtype: 'int32' }];
    case 'nullable-integer':
      return [
        { part: 'values', dtype: spec.dtype ?? 'int64' },
        { part: 'mask', dtype: 'bool' },
      ];
    case 'nullable-boolean':
      return [
        { part: 'values', dtype: 'bool' },
        { part: 'mask', dtype: 'bool' },
      ];
    case 'nullable-string':
      return [
        { part: 'values', dtype: 'string' },
        { part: 'mask', dtype: 'bool' },
      ];
  }
}

const COLUMN_GROUP: Partial<Record<Column['kind'], string>> = {
  categorical: 'categorical',
  'nullable-integer': 'nullable-integer',
  'nullable-boolean': 'nullable-boolean',
  'nullable-string': 'nullable-string-array',
};

export class AnnDataWriter {
  readonly #store: Store;
  #state: WriterState;
  readonly #wopts: WriteOptions;
  /** Streams by store path. */
  readonly #streams = new Map<string, Stream>();
  readonly #dicts = new Map<string, Dictionary>();
  readonly #lane = new Lane();
  /** Block ends not yet durable in every stream, oldest first. */
  readonly #cuts: Cut[] = [];
  #rows = 0;
  #nnz: Record<string, number> = {};
  #chain: Promise<void> = Promise.resolve();
  #calls = 0;
  #failed: unknown = null;
  #closed = false;

  private constructor(store: Store, state: WriterState) {
    this.#store = store;
    this.#state = state;
    this.#wopts = { zarrFormat: state.zarrFormat, shards: state.shards, compressor: state.compressor };
    this.#rows = state.rows;
    this.#nnz = { ...state.nnz };
  }

  /** Rows appended so far (after `resume`: the rows the store holds; re-append from there). */
  get nObs(): number {
    return this.#rows;
  }

  /** Start a new AnnData in `store`: `var` and the arrays are created, the root is written by close(). */
  static async create(storeLike: StoreLike, opts: AnnDataWriterOptions): Promise<AnnDataWriter> {
    const store = await resolveStore(storeLike);
    if (!(opts.var instanceof DataFrame)) {
      throw new InvalidInputError('InvalidInput', `AnnDataWriter.create: 'var' must be a DataFrame`, { key: 'var' });
    }
    const nVars = opts.var.nRows;
    const matrices: WriterState['matrices'] = { X: { ...checkSpec(opts.X, 'X'), width: nVars } };
    for (const [k, s] of Object.entries(opts.layers ?? {})) {
      matrices[`layers/${k}`] = { ...checkSpec(s, `layers/${k}`), width: nVars };
    }
    for (const [k, s] of Object.entries(opts.obsm ?? {})) {
      if (!Number.isSafeInteger(s.width) || s.width < 0) {
        throw new InvalidInputError('InvalidInput', `AnnDataWriter.create: 'obsm/${k}' needs a width`, {
          key: `obsm/${k}`,
        });
      }
      matrices[`obsm/${k}`] = { ...checkSpec(s, `obsm/${k}`), width: s.width };
    }
    const checkpointRows = opts.checkpointRows ?? DEFAULT_CHECKPOINT_ROWS;
    if (!Number.isSafeInteger(checkpointRows) || checkpointRows < 1) {
      throw new InvalidInputError(
        'InvalidInput',
        `AnnDataWriter.create: 'checkpointRows' must be a positive integer, not ${opts.checkpointRows}`,
        { key: 'checkpointRows' },
      );
    }
    if (opts.overwrite) await store.deletePrefix('');
    else if ((await store.list('')).length > 0) {
      const what = (await store.get(UNFINISHED_KEY)) === null ? 'data' : 'an unfinished write (use resume)';
      throw zarrsError('InvalidInput', `'${store.location}' already holds ${what}; pass overwrite: true`, '');
    }
    const state: WriterState = {
      writer: 'AnnDataWriter',
      version: 1,
      zarrFormat: opts.zarrFormat ?? 3,
      shards: opts.shards ?? 'auto',
      compressor: opts.compressor,
      checkpointRows,
      nVars,
      matrices,
      obs: null,
      rows: 0,
      nnz: Object.fromEntries(Object.entries(matrices).flatMap(([p, s]) => (s.format === 'csr' ? [[p, 0]] : []))),
      categories: {},
    };
    // the marker first: from here on the store opens as Incomplete until close()
    await store.set(UNFINISHED_KEY, encoder.encode(JSON.stringify(state)));
    const w = new AnnDataWriter(store, state);
    await w.#createStatic(opts.var);
    await w.#openMatrices(true);
    if (opts.obsSchema) await w.#openObs(opts.obsSchema, true);
    await w.#saveState();
    return w;
  }

  /** Reopen an unfinished writer's store: arrays are cut back to the last durable rows (`nObs`). */
  static async resume(storeLike: StoreLike): Promise<AnnDataWriter> {
    const store = await resolveStore(storeLike);
    const bytes = await store.get(UNFINISHED_KEY);
    const state = bytes === null ? null : (JSON.parse(decoder.decode(bytes)) as WriterState);
    if (state === null || state.writer !== 'AnnDataWriter') {
      const why = state === null ? 'holds no unfinished AnnDataWriter' : 'holds an unfinished conversion, not a writer';
      throw zarrsError(state === null ? 'NotFound' : 'InvalidInput', `'${store.location}' ${why}`, '');
    }
    if ((await store.get('zarr.json')) !== null || (await store.get('.zgroup')) !== null) {
      // close() wrote the root and stopped before removing the marker: only the cleanup is left
      await store.deletePrefix(MARKER_DIR);
      await consolidateMetadata(store, '');
      throw zarrsError('InvalidInput', `'${store.location}' is complete: close() had written it`, '');
    }
    const w = new AnnDataWriter(store, state);
    await w.#openMatrices(false);
    if (state.obs !== null) await w.#openObs(state.obs, false);
    const cut: Cut = { rows: state.rows, nnz: state.nnz };
    await Promise.all(
      [...w.#streams.values()].map(async (s) => {
        s.flushed = s.at(cut);
        await s.array.resize([s.flushed, ...s.rowShape]);
      }),
    );
    return w;
  }

  /** Append a block of rows (any number). Calls are serialised in call order. */
  append(block: AnnDataBlock): Promise<void> {
    const call = ++this.#calls;
    const run = this.#chain.then(() => this.#append(block, call));
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Flush, write the remaining metadata and the root group, remove the marker, consolidate. */
  close(): Promise<void> {
    const run = this.#chain.then(() => this.#close());
    this.#chain = run.catch(() => {});
    return run;
  }

  #usable(): void {
    if (this.#closed) throw zarrsError('InvalidInput', `'${this.#store.location}': the writer is closed`, '');
    if (this.#failed !== null) {
      throw zarrsError(
        'InvalidInput',
        `'${this.#store.location}': an earlier write failed (${(this.#failed as Error).message}); use AnnDataWriter.resume`,
        '',
        this.#failed,
      );
    }
  }

  async #append(block: AnnDataBlock, call: number): Promise<void> {
    this.#usable();
    if (typeof block !== 'object' || block === null || !(block.obs instanceof DataFrame)) {
      throw invalid('obs', call, 'must be a DataFrame');
    }
    const n = block.obs.nRows;
    if (this.#state.obs === null) {
      await this.#openObs(schemaOf(block.obs), true);
      // resume must know the schema of the obs arrays just created
      await this.#saveState();
    }
    // every check before anything is buffered: a bad block changes nothing
    const { pieces, nnz } = await this.#check(block, n, call);
    if (n === 0) return;
    try {
      this.#rows += n;
      this.#nnz = nnz;
      this.#cuts.push({ rows: this.#rows, nnz: { ...nnz } });
      await Promise.all(pieces.map(([path, v]) => (this.#streams.get(path) as Stream).write(v)));
      await this.#checkpoint();
    } catch (e) {
      this.#failed = e;
      throw e;
    }
  }

  /** Validate `block` against the schema; returns the values each stream gets. */
  async #check(
    block: AnnDataBlock,
    n: number,
    call: number,
  ): Promise<{ pieces: [string, Values][]; nnz: Record<string, number> }> {
    const out: [string, Values][] = [];
    const given: Record<string, Matrix | undefined> = { X: block.X };
    for (const [group, m] of [
      ['layers', block.layers],
      ['obsm', block.obsm],
    ] as const) {
      const want = Object.keys(this.#state.matrices).filter((p) => p.startsWith(`${group}/`));
      const got = Object.keys(m ?? {}).map((k) => `${group}/${k}`);
      const extra = got.find((p) => !want.includes(p));
      if (extra !== undefined) throw invalid(extra, call, 'is not among the matrices given to create()');
      for (const [k, v] of Object.entries(m ?? {})) given[`${group}/${k}`] = v;
    }
    const nnz = { ...this.#nnz };
    for (const [path, spec] of Object.entries(this.#state.matrices)) {
      const m = given[path];
      if (m === undefined) throw invalid(path, call, 'is missing from the block');
      if (spec.format === 'csr' ? !(m instanceof CsrMatrix) : !isDense(m)) {
        throw invalid(path, call, `must be a ${spec.format === 'csr' ? 'CsrMatrix' : 'dense matrix'}`);
      }
      if (m.shape.length !== 2 || m.shape[0] !== n || m.shape[1] !== spec.width) {
        throw invalid(
          path,
          call,
          `has shape [${m.shape}], expected [${n}, ${spec.width}] (the block's obs has ${n} rows)`,
        );
      }
      const dtype = dtypeOf(m, path);
      if (dtype !== spec.dtype) throw invalid(path, call, `has dtype ${dtype}, expected ${spec.dtype}`);
      if (m instanceof CsrMatrix) {
        await validateCompressed(m, path).catch((e: Error) => {
          throw invalid(path, call, e.message.replace(/^'[^']*': /, ''));
        });
        const base = BigInt(nnz[path]);
        const ptr = BigInt64Array.from(m.indptr.subarray(1) as ArrayLike<number | bigint>, (v) => BigInt(v) + base);
        out.push([`${path}/data`, m.data], [`${path}/indices`, toInt32(m.indices)]);
        out.push([`${path}/indptr`, ptr]);
        nnz[path] += m.data.length;
      } else {
        const d = m as Dense;
        if (d.data.length !== n * spec.width)
          throw invalid(path, call, `has ${d.data.length} values for shape [${d.shape}]`);
        out.push([path, d.data as Values]);
      }
    }
    out.push(...this.#checkObs(block.obs, call));
    return { pieces: out, nnz };
  }

  #checkObs(df: DataFrame, call: number): [string, Values][] {
    const schema = this.#state.obs as ObsSchema;
    const out: [string, Values][] = [];
    const indexKey = schema.indexName ?? '_index';
    if (df.index.kind !== 'string')
      throw invalid(`obs/${indexKey}`, call, `(the index) must hold strings, not ${df.index.kind}`);
    out.push([`obs/${indexKey}`, df.index.data]);
    const names = new Set(schema.columns.map((c) => c.name));
    const extra = df.columns.find((c) => !names.has(c));
    if (extra !== undefined) throw invalid(`obs/${extra}`, call, 'is not in the obs schema');
    const codes: [Dictionary, Column, string][] = [];
    for (const spec of schema.columns) {
      const path = `obs/${spec.name}`;
      if (!df.has(spec.name)) throw invalid(path, call, 'is missing from the block (it is in the obs schema)');
      const c = df.get(spec.name);
      if (spec.kind === 'categorical') {
        const ok = c.kind === 'string' || (c.kind === 'categorical' && c.categories.kind === 'string');
        if (!ok) throw invalid(path, call, `must be a categorical of strings (or strings), not ${c.kind}`);
        const dict = this.#dicts.get(spec.name) as Dictionary;
        // fixed categories: every value must be one of them
        if (dict.fixed) {
          const values = c.kind === 'string' ? c.data : (c.categories.data as string[]);
          const bad = values.find((v) => !dict.index.has(v));
          if (bad !== undefined) throw invalid(path, call, `has '${bad}', which is not among its categories`);
        }
        codes.push([dict, c, `${path}/codes`]);
        continue;
      }
      if (c.kind !== spec.kind) throw invalid(path, call, `is a ${c.kind} column, the obs schema says ${spec.kind}`);
      if ((c.kind === 'numeric' || c.kind === 'nullable-integer') && c.dtype !== spec.dtype) {
        throw invalid(path, call, `has dtype ${c.dtype}, the obs schema says ${spec.dtype}`);
      }
      switch (c.kind) {
        case 'numeric':
        case 'bool':
        case 'string':
          out.push([path, c.data]);
          break;
        case 'nullable-integer':
        case 'nullable-boolean':
        case 'nullable-string':
          out.push([`${path}/values`, c.values], [`${path}/mask`, c.mask]);
          break;
      }
    }
    // codes last: only now may the dictionaries grow
    for (const [dict, c, path] of codes) out.push([path, this.#encode(dict, c)]);
    return out;
  }

  /** Codes of a block's categorical (or string) column in the gathered dictionary. */
  #encode(dict: Dictionary, c: Column): Int32Array {
    const row = this.#rows;
    if (c.kind === 'string') return Int32Array.from(c.data, (v, i) => dict.code(v, row + i) as number);
    const cat = c as CategoricalColumn;
    const cats = cat.categories.data as string[];
    // first appearance decides the dictionary order, so map codes in row order
    const map = new Int32Array(cats.length).fill(-2);
    return Int32Array.from(cat.codes as ArrayLike<number | bigint>, (k, i) => {
      const j = Number(k);
      if (j < 0) return -1;
      if (map[j] === -2) map[j] = dict.code(cats[j], row + i) as number;
      return map[j];
    });
  }

  /** Advance the durable cut as far as every stream has appended; save it when it moved. */
  async #checkpoint(): Promise<void> {
    let moved: Cut | null = null;
    const streams = [...this.#streams.values()];
    while (this.#cuts.length > 0 && streams.every((s) => s.flushed >= s.at(this.#cuts[0]))) {
      moved = this.#cuts.shift() as Cut;
    }
    if (moved !== null) {
      this.#state.rows = moved.rows;
      this.#state.nnz = moved.nnz;
      // also at close: a crash after this resumes with every row and only has to close again
      await this.#saveState();
    }
  }

  async #saveState(): Promise<void> {
    const rows = this.#state.rows;
    this.#state.categories = Object.fromEntries(
      [...this.#dicts].map(([name, d]) => {
        // only the categories of durable rows: a resumed run re-appends the others
        const keep = d.firstRows.findIndex((r) => r >= rows);
        const end = keep < 0 ? d.values.length : keep;
        return [name, { values: d.values.slice(0, end), firstRows: d.firstRows.slice(0, end) }];
      }),
    );
    await this.#store.set(UNFINISHED_KEY, encoder.encode(JSON.stringify(this.#state)));
  }

  async #close(): Promise<void> {
    this.#usable();
    this.#closed = true;
    try {
      await this.#finish();
    } catch (e) {
      this.#failed = e;
      throw e;
    }
  }

  async #finish(): Promise<void> {
    await Promise.all([...this.#streams.values()].map((s) => s.finish()));
    await this.#checkpoint();
    const n = this.#rows;
    if (this.#state.obs === null) await this.#openObs({ columns: [] }, true);
    const ctx = new WriteCtx(this.#wopts);
    for (const [path, spec] of Object.entries(this.#state.matrices)) {
      if (spec.format !== 'csr') continue;
      const g = await openGroup(this.#store, path, { mode: 'r+', consolidated: 'ignore' });
      await g.setAttributes({ ...g.attrs, shape: [n, spec.width] });
    }
    for (const [name, dict] of this.#dicts) await this.#finishCategorical(name, dict, n, ctx);
    // root, then the marker: the store never opens as complete while arrays are partial
    await createGroup(this.#store, '', {
      zarrFormat: this.#wopts.zarrFormat,
      attributes: encodingAttrs({ encodingType: 'anndata', encodingVersion: '0.1.0' }),
    });
    await this.#store.deletePrefix(MARKER_DIR);
    await consolidateMetadata(this.#store, '');
  }

  /** Sort the gathered categories (as pandas does) and write the codes once, remapped, in blocks. */
  async #finishCategorical(name: string, dict: Dictionary, n: number, ctx: WriteCtx): Promise<void> {
    const scratch = this.#streams.get(`obs/${name}/codes`) as Stream;
    const order = dict.values.map((_, i) => i);
    if (!dict.fixed) order.sort((a, b) => compareCodePoints(dict.values[a], dict.values[b]));
    const remap = new Int32Array(order.length);
    order.forEach((old, pos) => {
      remap[old] = pos;
    });
    const g = await openGroup(this.#store, `obs/${name}`, { mode: 'r+', consolidated: 'ignore' });
    const dtype = codesDtype(order.length);
    const layout = layoutFor('column', [n], dtype, this.#wopts);
    const codes = await g.createArray('codes', {
      shape: [n],
      dtype,
      chunks: layout.chunks,
      shards: layout.shards,
      compressors: arrayCompressors(dtype, this.#wopts),
      attributes: ARRAY,
      zarrFormat: this.#wopts.zarrFormat,
      // a close() that crashed may have written part of it
      overwrite: true,
    });
    const step = (layout.shards ?? layout.chunks)[0];
    for (let start = 0; start < n; start += step) {
      const stop = Math.min(n, start + step);
      const old = (await scratch.array.get([slice(start, stop)])).data as Int32Array;
      const out = codesArray(order.length, old.length);
      for (let i = 0; i < old.length; i++) out[i] = (old[i] < 0 ? -1 : remap[old[i]]) as never;
      await codes.set([slice(start, stop)], out as never);
    }
    const categories: Column = { kind: 'string', data: order.map((i) => dict.values[i]) };
    await writePlainColumn(g, 'categories', categories, ctx);
  }

  /** var (whole), the empty mappings, and the groups of the streamed elements. */
  async #createStatic(vars: DataFrame): Promise<void> {
    const z = this.#wopts.zarrFormat;
    const ctx = new WriteCtx(this.#wopts);
    const df = vars.copy();
    for (const name of df.columns) df.set(name, stringsToCategorical(df.get(name)));
    const indexKey = df.indexName ?? '_index';
    const vg = await createGroup(this.#store, 'var', { zarrFormat: z, attributes: frameAttrs(indexKey, df.columns) });
    await Promise.all([ctx.write(vg, indexKey, df.index), ...df.columns.map((c) => ctx.write(vg, c, df.get(c)))]);
    for (const k of ['obsm', 'varm', 'obsp', 'varp', 'layers', 'uns']) {
      await createGroup(this.#store, k, { zarrFormat: z, attributes: DICT });
    }
  }

  /** Create (or, resuming, open) the arrays of X, layers and obsm. */
  async #openMatrices(create: boolean): Promise<void> {
    for (const [path, spec] of Object.entries(this.#state.matrices)) {
      if (spec.format === 'dense') {
        const at = (c: Cut) => c.rows;
        await this.#stream(path, 'dense', spec.dtype, [spec.width], ARRAY, at, create);
        continue;
      }
      if (create) {
        const attrs = {
          ...encodingAttrs({ encodingType: 'csr_matrix', encodingVersion: '0.1.0' }),
          shape: [0, spec.width],
        };
        await createGroup(this.#store, path, { zarrFormat: this.#wopts.zarrFormat, attributes: attrs });
      }
      const nnzAt = (c: Cut) => c.nnz[path];
      await this.#stream(`${path}/data`, 'sparse', spec.dtype, [], {}, nnzAt, create);
      await this.#stream(`${path}/indices`, 'sparse', 'int32', [], {}, nnzAt, create);
      const ptr = await this.#stream(`${path}/indptr`, 'indptr', 'int64', [], {}, (c) => c.rows + 1, create);
      if (create) await ptr.write(new BigInt64Array(1));
    }
  }

  /** Create (or open) the obs group and one stream per column part; the dictionaries. */
  async #openObs(schema: ObsSchema, create: boolean): Promise<void> {
    const z = this.#wopts.zarrFormat;
    const indexKey = schema.indexName ?? '_index';
    const names = schema.columns.map((c) => c.name);
    if (create) {
      if (names.includes(indexKey) || new Set(names).size !== names.length) {
        throw new InvalidInputError(
          'InvalidInput',
          `the obs schema repeats a name (columns: ${names}, index: ${indexKey})`,
          {
            key: 'obs',
          },
        );
      }
      await createGroup(this.#store, 'obs', { zarrFormat: z, attributes: frameAttrs(indexKey, names) });
      this.#state.obs = schema;
    }
    const rowsAt = (c: Cut) => c.rows;
    await this.#stream(`obs/${indexKey}`, 'column', 'string', [], STRING_ARRAY, rowsAt, create);
    for (const spec of schema.columns) {
      const path = `obs/${spec.name}`;
      const group = COLUMN_GROUP[spec.kind];
      if (create && group !== undefined) {
        const extra =
          spec.kind === 'categorical'
            ? { ordered: spec.ordered ?? false }
            : spec.kind === 'nullable-string'
              ? { 'na-value': spec.naValue ?? 'NA' }
              : {};
        const version = spec.kind === 'categorical' ? '0.2.0' : '0.1.0';
        const attrs = { ...encodingAttrs({ encodingType: group, encodingVersion: version }), ...extra };
        await createGroup(this.#store, path, { zarrFormat: z, attributes: attrs });
      }
      for (const { part, dtype } of columnParts(spec)) {
        const attrs = dtype === 'string' ? STRING_ARRAY : ARRAY;
        // categorical codes stream into a scratch array; close() writes the sorted codes
        const at =
          spec.kind === 'categorical'
            ? `${SCRATCH}/${names.indexOf(spec.name)}`
            : part === ''
              ? path
              : `${path}/${part}`;
        const s = await this.#stream(at, 'column', dtype, [], attrs, rowsAt, create);
        if (spec.kind === 'categorical') {
          // fed (and flushed) under the column's name, once
          this.#streams.delete(at);
          this.#streams.set(`${path}/codes`, s);
        }
      }
      if (spec.kind === 'categorical') {
        const saved = this.#state.categories[spec.name];
        this.#dicts.set(
          spec.name,
          spec.categories !== undefined
            ? new Dictionary(
                [...spec.categories],
                spec.categories.map(() => 0),
                true,
              )
            : new Dictionary(saved?.values ?? [], saved?.firstRows ?? []),
        );
      }
    }
  }

  async #stream(
    path: string,
    role: ArrayRole,
    dtype: string,
    rowShape: number[],
    attrs: Record<string, unknown>,
    at: (c: Cut) => number,
    create: boolean,
  ): Promise<Stream> {
    const layout = streamLayout(role, rowShape, dtype as DataType, this.#wopts, this.#state.checkpointRows);
    const array = create
      ? await createArray(this.#store, path, {
          shape: [0, ...rowShape],
          dtype: dtype as NumericDType,
          chunks: layout.chunks,
          shards: layout.shards,
          compressors: arrayCompressors(dtype as NumericDType, this.#wopts),
          attributes: attrs,
          zarrFormat: this.#wopts.zarrFormat,
        })
      : await openArray(this.#store, path, { zarrFormat: this.#wopts.zarrFormat });
    // from the array, not the layout: a resumed writer keeps the shards its store was made with
    const s = new Stream(array, rowShape, (array.shards ?? array.chunks)[0], 0, at, this.#lane);
    this.#streams.set(path, s);
    return s;
  }
}

function frameAttrs(indexKey: string, columns: string[]): Record<string, unknown> {
  return {
    ...encodingAttrs({ encodingType: 'dataframe', encodingVersion: '0.2.0' }),
    _index: indexKey,
    'column-order': columns,
  };
}

function codesDtype(nCategories: number): NumericDType {
  const a = codesArray(nCategories, 0);
  return a instanceof Int8Array
    ? 'int8'
    : a instanceof Int16Array
      ? 'int16'
      : a instanceof Int32Array
        ? 'int32'
        : 'int64';
}

/** Validated sparse indices as int32 (the stream copies them, so an Int32Array is passed as is). */
function toInt32(a: ArrayLike<number | bigint>): Int32Array {
  if (a instanceof Int32Array) return a;
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
  return out;
}

function checkSpec(s: MatrixSpec, path: string): MatrixSpec {
  if (
    typeof s !== 'object' ||
    s === null ||
    (s.format !== 'csr' && s.format !== 'dense') ||
    typeof s.dtype !== 'string'
  ) {
    throw new InvalidInputError(
      'InvalidInput',
      `AnnDataWriter.create: '${path}' needs { format: 'csr' | 'dense', dtype }`,
      {
        key: path,
      },
    );
  }
  return { format: s.format, dtype: s.dtype };
}
