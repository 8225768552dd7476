// The encoding registry: one entry per (encoding-type, encoding-version) with its two read
// phases, *describe* (from metadata alone: kind, shape, dtype, array handles; no chunk I/O) and
// *materialize* (read a selection of a description), and its writer. The read and write
// contexts carry options, element paths and the readDispatched / writeDispatched callbacks.

import type { ZArray } from '../zarr/array.js';
import type { DataType } from '../zarr/dtype.js';
import { InvalidInputError, InvalidMetadataError, isZarrsError, UnsupportedError, zarrsError } from '../zarr/errors.js';
import type { Group, Member, MemberMetadata } from '../zarr/group.js';
import type { OrthogonalDim } from '../zarr/selection.js';
import type { Elem, IOSpec } from './elems.js';
import type { DatasetOptions, ReadOptions, WriteOptions } from './options.js';

export type Node = Group | ZArray;

export function isGroup(node: Node | ArrayRef): node is Group {
  return 'members' in node;
}

/**
 * An array element that is not opened yet: its path and stored metadata. Dispatch callbacks
 * receive it (not a ZArray) so that they see an array they could not open, and so that
 * skipping it costs no I/O at all.
 */
export class ArrayRef {
  constructor(
    readonly parent: Group,
    readonly name: string,
    readonly stored: MemberMetadata,
  ) {}
  get path(): string {
    return joinPath(this.parent.path, this.name);
  }
  get attrs(): Record<string, unknown> {
    return structuredClone(this.stored.attributes);
  }
}

/** What a dispatch callback and its `read` receive: a group, an opened array or an array ref. */
export type ElemNode = Node | ArrayRef;

/** One axis of a selection: everything (null), a slice, integer positions or a bool mask. */
export type AxisSelection = Exclude<OrthogonalDim, number>;
/**
 * A selection of an element along its leading axes (rows, then columns): `[obs]` for an obs
 * column or dataframe, `[obs, var]` for X. Missing or null entries mean everything.
 */
export type ElemSelection = readonly AxisSelection[];

/** What an element is in memory, as its description says before anything is read. */
export type ElemKind =
  | 'anndata'
  | 'anndata-raw'
  | 'dict'
  | 'dataframe'
  | 'dense'
  | 'sparse'
  | 'column'
  | 'scalar'
  | 'null'
  | 'awkward'
  | 'rec-array'
  /** Read by a dispatch callback: its result. */
  | 'value'
  /** `{ fallback: 'raw' }`: a RawElem. */
  | 'raw';

/** An element described from its metadata: everything a reader needs before reading chunks. */
export interface ElemDesc {
  /** Store path of the element's node. */
  readonly path: string;
  readonly spec: IOSpec;
  readonly kind: ElemKind;
  /** Element shape (rows, columns, ...) when it has one. */
  readonly shape: readonly number[] | null;
  readonly dtype: DataType | null;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The opened arrays (metadata only) that materialize reads. */
  readonly arrays: Readonly<Record<string, ZArray>>;
  /** Child elements, in the order the element lists them. */
  readonly children: Readonly<Record<string, ElemDesc>>;
  /** Encoding-specific facts found while describing (e.g. a dataframe's index key). */
  readonly extra: Readonly<Record<string, unknown>>;
  /** Who materializes it. */
  readonly encoding: Encoding;
}

/** What an encoding's describe returns; the registry adds path, spec, attrs and itself. */
export interface Described {
  kind: ElemKind;
  shape?: readonly number[] | null;
  dtype?: DataType | null;
  arrays?: Record<string, ZArray>;
  children?: Record<string, ElemDesc>;
  extra?: Record<string, unknown>;
}

export interface Encoding {
  type: string;
  version: string;
  /** The node it is stored as. */
  node: 'array' | 'group';
  /** From metadata alone: no chunk is read. `parent` is the group the node was found in. */
  describe(node: Node, ctx: ReadCtx, parent?: Group): Promise<Described>;
  /** Read the element (or `sel` of it, where the encoding supports selections). */
  materialize(desc: ElemDesc, ctx: ReadCtx, sel?: ElemSelection): Promise<unknown>;
  /**
   * The children its layout names (from the group's attributes), for stores without
   * consolidated metadata: probing them replaces a listing. Absent: the group is listed.
   */
  members?(attrs: Readonly<Record<string, unknown>>): readonly string[];
  /** Does this encoding write `elem`? Encodings are tried in registration order. */
  accepts?(elem: unknown): boolean;
  write?(parent: Group, key: string, elem: unknown, ctx: WriteCtx, datasetOptions: DatasetOptions): Promise<void>;
}

export type ReadFn = (node: ElemNode) => Promise<unknown>;
export type ReadCallback = (read: ReadFn, name: string, node: ElemNode, info: { iospec: IOSpec }) => Promise<unknown>;
export type WriteFn = (parent: Group, key: string, elem: unknown, datasetOptions?: DatasetOptions) => Promise<void>;
export type WriteCallback = (
  write: WriteFn,
  parent: Group,
  name: string,
  elem: unknown,
  info: { iospec: IOSpec; datasetOptions: DatasetOptions },
) => Promise<void>;

const ENCODINGS = new Map<string, Encoding>();
const WRITERS: Encoding[] = [];

/** Register an encoding (its reader and, when it has `accepts` and `write`, its writer). */
export function register(enc: Encoding): void {
  ENCODINGS.set(`${enc.type}@${enc.version}`, enc);
  if (enc.accepts && enc.write) WRITERS.push(enc);
}

/** The registered encoding of (type, version), if any. */
export function encodingOf(spec: IOSpec): Encoding | undefined {
  return ENCODINGS.get(`${spec.encodingType}@${spec.encodingVersion}`);
}

/** Carries options, cached member listings and the dispatch callback down a read. */
export class ReadCtx {
  readonly #members = new WeakMap<Group, Promise<Map<string, Member['kind']>>>();
  /** Reads kept for the context's lifetime (see `once`). */
  protected cache = new WeakMap<object, Promise<unknown>>();

  constructor(
    readonly opts: ReadOptions = {},
    readonly callback?: ReadCallback,
    /** The file predates encoding attributes: infer array / dict for every node. */
    readonly legacy = false,
  ) {}

  /** Describe and materialize `node` through the dispatch callback (when set). */
  async read(node: ElemNode): Promise<unknown> {
    const defaultRead: ReadFn = async (n) => this.materialize(await this.describeNode(n));
    if (!this.callback) return defaultRead(node);
    return this.callback(defaultRead, baseName(node.path), node, { iospec: specOfAttrs(nodeAttrs(node)) });
  }

  /**
   * Describe `node` with the registry (no dispatch callback). Under `{ fallback: 'raw' }` an
   * element that cannot be described (unknown encoding, an array zarrs cannot open, a part
   * with an unsupported codec) is described as a raw element instead.
   */
  async describeNode(node: ElemNode): Promise<ElemDesc> {
    const opened = node instanceof ArrayRef ? await this.#openOrRef(node.parent, node.name, node) : node;
    if (opened instanceof ArrayRef) return describeRaw(opened, this);
    try {
      return await describeWith(pickEncoding(opened, this), opened, this);
    } catch (e) {
      if (this.opts.fallback === 'raw' && undecodable(e)) return describeRaw(opened, this);
      throw e;
    }
  }

  /** Describe `node` as `enc` whatever its attributes say (legacy layouts). */
  describeAs(enc: Encoding, node: Node, parent?: Group): Promise<ElemDesc> {
    return describeWith(enc, node, this, parent);
  }

  /**
   * Describe child `name` of `group`. With a dispatch callback the child is read through it
   * here (the callback decides before anything of the child is opened) and its result becomes
   * a 'value' description; without one nothing is read.
   */
  async describeChild(group: Group, name: string): Promise<ElemDesc> {
    const kind = await this.#kindOf(group, name);
    if (this.callback) {
      const node =
        kind === 'group'
          ? await this.openChildGroup(group, name)
          : new ArrayRef(group, name, await group.memberMetadata(name, this.opts));
      return valueDesc(node, await this.read(node));
    }
    return this.describeNode(
      kind === 'group' ? await this.openChildGroup(group, name) : await this.#openOrRef(group, name),
    );
  }

  /** Materialize a description (all of it, or `sel` where its encoding supports that). */
  async materialize(desc: ElemDesc, sel?: ElemSelection): Promise<unknown> {
    return desc.encoding.materialize(desc, this, sel);
  }

  /**
   * The context lives longer than one read (a lazy object's does), so a small whole array read
   * once (see `once`) serves the reads after it.
   */
  get outlivesRead(): boolean {
    return false;
  }

  /** Whether `once(key, ...)` has run (its read may still be in flight). */
  hasOnce(key: object): boolean {
    return this.cache.has(key);
  }

  /**
   * `read()` once per context and `key` (a categorical's categories, a sparse matrix's whole
   * indptr): a lazy reader's context lives as long as its object, so later reads reuse it.
   */
  once<T>(key: object, read: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      this.cache.set(key, p);
      // a failed read (aborted, I/O) is not kept: the next call tries again
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  /** The opened array `name` of `group`: a part of an element (codes, indptr, ...). */
  async array(group: Group, name: string): Promise<ZArray> {
    await this.#expectKind(group, name, 'array');
    try {
      return await this.openChildArray(group, name);
    } catch (e) {
      throw namingElem(e, joinPath(group.path, name));
    }
  }

  /** The group `name` of `group`. */
  async group(group: Group, name: string): Promise<Group> {
    await this.#expectKind(group, name, 'group');
    return this.openChildGroup(group, name);
  }

  /** Open child array `name` (a lazy context serves the arrays it opened while probing). */
  protected openChildArray(group: Group, name: string): Promise<ZArray> {
    return group.openArray(name, this.opts);
  }

  /** Open child group `name` (a lazy context serves the groups it opened while probing). */
  protected openChildGroup(group: Group, name: string): Promise<Group> {
    return group.openGroup(name, this.opts);
  }

  async #expectKind(group: Group, name: string, kind: Member['kind']): Promise<void> {
    if ((await this.#kindOf(group, name)) === kind) return;
    const path = joinPath(group.path, name);
    const [want, got] = kind === 'array' ? ['an array', 'a group'] : ['a group', 'an array'];
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' should be ${want}, not ${got}`, {
      key: path,
    });
  }

  async has(group: Group, name: string): Promise<boolean> {
    return (await this.members(group)).has(name);
  }

  /** Member names in listing order. */
  async names(group: Group): Promise<string[]> {
    return [...(await this.members(group)).keys()];
  }

  members(group: Group): Promise<Map<string, Member['kind']>> {
    let m = this.#members.get(group);
    if (!m) {
      m = group.members(this.opts).then((ms) => new Map(ms.map((x) => [x.name, x.kind])));
      this.#members.set(group, m);
    }
    return m;
  }

  async #kindOf(group: Group, name: string): Promise<Member['kind']> {
    const kind = (await this.members(group)).get(name);
    if (kind === undefined) {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(group)}' has no element '${name}'`, {
        key: joinPath(group.path, name),
      });
    }
    return kind;
  }

  /**
   * Open array `name` of `group`. When zarrs refuses it (codec, data type) the error names the
   * element; under `{ fallback: 'raw' }` its ArrayRef is returned instead.
   */
  async #openOrRef(group: Group, name: string, known?: ArrayRef): Promise<ZArray | ArrayRef> {
    try {
      return await this.openChildArray(group, name);
    } catch (e) {
      const err = namingElem(e, joinPath(group.path, name));
      if (this.opts.fallback !== 'raw' || !undecodable(err, true)) throw err;
      return known ?? new ArrayRef(group, name, await group.memberMetadata(name, this.opts));
    }
  }
}

/**
 * Errors that mean "this library cannot decode it" (a codec or data type it lacks), as opposed
 * to I/O failures or a store that breaks the format. With `metadata`, also an array's own
 * metadata document that zarrs refuses (the raw fallback still shows it).
 */
export function undecodable(e: unknown, metadata = false): boolean {
  if (!isZarrsError(e)) return false;
  return e.code === 'Unsupported' || e.code === 'Codec' || (metadata && e.code === 'InvalidMetadata');
}

/** Carries options and the dispatch callback down a write. */
export class WriteCtx {
  constructor(
    readonly opts: WriteOptions,
    readonly callback?: WriteCallback,
  ) {}

  /** Write `elem` as child `key` of `parent`, through the dispatch callback when set. */
  write(parent: Group, key: string, elem: unknown, datasetOptions: DatasetOptions = {}): Promise<void> {
    checkKeyName(key, joinPath(parent.path, key));
    const defaultWrite: WriteFn = (p, k, e, d) => writeRegistered(p, k, e, this, d ?? {});
    if (!this.callback) return defaultWrite(parent, key, elem, datasetOptions);
    const iospec = specOf(elem, joinPath(parent.path, key));
    return this.callback(defaultWrite, parent, key, elem, { iospec, datasetOptions });
  }
}

/** The encoding attributes to put on a node. */
export function encodingAttrs(spec: IOSpec): Record<string, string> {
  return { 'encoding-type': spec.encodingType, 'encoding-version': spec.encodingVersion };
}

/** `encoding-type` / `encoding-version` of a node ('' when missing). */
export function specOfNode(node: ElemNode): IOSpec {
  return specOfAttrs(nodeAttrs(node));
}

function nodeAttrs(node: ElemNode): Record<string, unknown> {
  return node instanceof ArrayRef ? node.stored.attributes : node.attrs;
}

function specOfAttrs(a: Record<string, unknown>): IOSpec {
  return {
    encodingType: typeof a['encoding-type'] === 'string' ? a['encoding-type'] : '',
    encodingVersion: typeof a['encoding-version'] === 'string' ? a['encoding-version'] : '',
  };
}

/** The element path as users see it: '/obs/cell_type'. */
export function elemPath(node: { path: string } | string): string {
  const p = typeof node === 'string' ? node : node.path;
  return `/${p}`;
}

export function joinPath(a: string, b: string): string {
  return a === '' ? b : `${a}/${b}`;
}

function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** The same error, its message starting with the element path when it did not name it. */
export function namingElem(e: unknown, path: string): unknown {
  if (!isZarrsError(e)) return e;
  if (e.message.includes(path)) return e;
  return zarrsError(e.code, `'${elemPath(path)}': ${e.message}`, e.key ?? path, e);
}

// set by ./raw.ts (the raw fallback), kept out of this module so it stays about dispatch
let describeRaw: (node: Node | ArrayRef, ctx: ReadCtx) => Promise<ElemDesc>;
export function registerRawFallback(f: typeof describeRaw): void {
  describeRaw = f;
}

/** The legacy-inferred encodings (files without encoding attributes), set by the encodings. */
const LEGACY: {
  array?: Encoding;
  stringArray?: Encoding;
  numericScalar?: Encoding;
  string?: Encoding;
  dict?: Encoding;
  /** Arrays of a structured dtype: rec-arrays even without encoding attributes (anndata <= 0.7). */
  recArray?: Encoding;
} = {};
export function registerLegacy(kind: keyof typeof LEGACY, enc: Encoding): void {
  LEGACY[kind] = enc;
}

/** What `legacyEncodingOf` needs to know of a node: a group, or an array's dtype and rank. */
export interface LegacyNodeInfo {
  kind: 'group' | 'array';
  dtype?: DataType | null;
  shape?: readonly number[];
}

/**
 * The encoding a node without encoding attributes has in a file from before them (anndata
 * < 0.8), as python's legacy read infers it: groups are dicts, structured arrays rec-arrays,
 * 0-d arrays scalars, the rest (string) arrays. Also what `zarrs-node convert` writes for them.
 */
export function legacyEncodingOf(node: LegacyNodeInfo): Encoding | undefined {
  if (node.kind === 'group') return LEGACY.dict;
  if (node.dtype === 'record') return LEGACY.recArray;
  const string = node.dtype === 'string';
  if ((node.shape?.length ?? 0) === 0) return string ? LEGACY.string : LEGACY.numericScalar;
  return string ? LEGACY.stringArray : LEGACY.array;
}

/** The spec this package writes elements of encoding `type` with (its registered writer's). */
export function writtenSpec(type: string): IOSpec {
  const w = WRITERS.find((e) => e.type === type);
  if (w === undefined) throw zarrsError('Internal', `no writer of encoding '${type}' is registered`);
  return { encodingType: w.type, encodingVersion: w.version };
}

/** The encoding that reads `node` (or the raw fallback); throws InvalidMetadata naming it. */
function pickEncoding(node: Node, ctx: ReadCtx): Encoding | 'raw' {
  const spec = specOfNode(node);
  const kind = isGroup(node) ? 'group' : 'array';
  if (spec.encodingType === '') {
    const info: LegacyNodeInfo = isGroup(node) ? { kind } : { kind, dtype: node.dtype, shape: node.shape };
    // { fallback: 'raw' } still reads structured arrays as rec-arrays (anndata <= 0.7 wrote them bare)
    const inferred = ctx.legacy || (ctx.opts.fallback === 'raw' && info.dtype === 'record');
    const enc = inferred ? legacyEncodingOf(info) : undefined;
    if (enc) return enc;
    if (ctx.opts.fallback === 'raw') return 'raw';
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' has no encoding-type attribute; pass { fallback: 'raw' } to read it as a raw element`,
      { key: node.path },
    );
  }
  const enc = encodingOf(spec);
  if (!enc) {
    if (ctx.opts.fallback === 'raw') return 'raw';
    const versions = [...ENCODINGS.values()].filter((e) => e.type === spec.encodingType).map((e) => e.version);
    const why = versions.length ? `unsupported version (this reader knows ${versions.join(', ')})` : 'unknown encoding';
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' has encoding ${spec.encodingType} ${spec.encodingVersion}: ${why}; pass { fallback: 'raw' } to read it as a raw element`,
      { key: node.path },
    );
  }
  if (enc.node !== kind) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' is ${kind === 'array' ? 'an array' : 'a group'} but encoding ${spec.encodingType} is stored as ${enc.node === 'array' ? 'an array' : 'a group'}`,
      { key: node.path },
    );
  }
  return enc;
}

async function describeWith(enc: Encoding | 'raw', node: Node, ctx: ReadCtx, parent?: Group): Promise<ElemDesc> {
  if (enc === 'raw') return describeRaw(node, ctx);
  const d = await enc.describe(node, ctx, parent);
  return {
    path: node.path,
    spec: { encodingType: enc.type, encodingVersion: enc.version },
    kind: d.kind,
    shape: d.shape ?? null,
    dtype: d.dtype ?? null,
    attrs: node.attrs,
    arrays: d.arrays ?? {},
    children: d.children ?? {},
    extra: d.extra ?? {},
    encoding: enc,
  };
}

/** An element a dispatch callback already read: materializing it returns that value. */
const VALUE: Encoding = {
  type: 'value',
  version: '',
  node: 'group',
  describe: async () => ({ kind: 'value' }),
  materialize: async (desc) => desc.extra.value,
};

function valueDesc(node: ElemNode, value: unknown): ElemDesc {
  return {
    path: node.path,
    spec: specOfNode(node),
    kind: 'value',
    shape: null,
    dtype: null,
    attrs: nodeAttrs(node),
    arrays: {},
    children: {},
    extra: { value },
    encoding: VALUE,
  };
}

/** Materialize every child of `desc`, concurrently, into a record in listing order. */
export async function materializeChildren(desc: ElemDesc, ctx: ReadCtx): Promise<Record<string, unknown>> {
  const names = Object.keys(desc.children);
  const values = await Promise.all(names.map((n) => ctx.materialize(desc.children[n])));
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/** Describe every member of `g` (concurrently) as a record in listing order. */
export async function describeMembers(g: Group, ctx: ReadCtx): Promise<Record<string, ElemDesc>> {
  const names = await ctx.names(g);
  const descs = await Promise.all(names.map((n) => ctx.describeChild(g, n)));
  return Object.fromEntries(names.map((n, i) => [n, descs[i]]));
}

/** Refuse a selection where the encoding has none (scalars, dicts). */
export function noSelection(desc: ElemDesc, sel: ElemSelection | undefined): void {
  if (sel?.some((s) => s !== null && s !== undefined)) {
    throw new UnsupportedError(
      'Unsupported',
      `'${elemPath(desc.path)}': a ${desc.spec.encodingType} element cannot be read with a selection`,
      { key: desc.path },
    );
  }
}

/** The array part `name` of a description (set by its describe). */
export function part(desc: ElemDesc, name: string): ZArray {
  const a = desc.arrays[name];
  if (a === undefined) throw zarrsError('Internal', `'${elemPath(desc.path)}' was described without '${name}'`);
  return a;
}

function writerFor(elem: unknown, path: string): Encoding {
  const w = WRITERS.find((x) => x.accepts?.(elem));
  if (!w) {
    const what = elem === undefined ? 'undefined' : elem === null ? 'null' : (elem.constructor?.name ?? typeof elem);
    throw new UnsupportedError('Unsupported', `'${elemPath(path)}': cannot write a ${what} as an AnnData element`, {
      key: path,
    });
  }
  return w;
}

async function writeRegistered(
  parent: Group,
  key: string,
  elem: unknown,
  ctx: WriteCtx,
  datasetOptions: DatasetOptions,
): Promise<void> {
  const w = writerFor(elem, joinPath(parent.path, key));
  await w.write?.(parent, key, elem, ctx, datasetOptions);
}

/** Keys are single path segments. Throws InvalidInput naming `path` (the element's path). */
export function checkKeyName(key: string, path: string): void {
  if (key === '' || key.includes('/') || key === '.' || key === '..') {
    throw new InvalidInputError(
      'InvalidInput',
      `'${elemPath(path)}' has an invalid key '${key}': keys must be one non-empty segment without '/'`,
      { key: path },
    );
  }
}

/** The spec the registry would write for `elem`. */
export function specOf(elem: unknown, path = ''): IOSpec {
  const w = writerFor(elem, path);
  return { encodingType: w.type, encodingVersion: w.version };
}

export type { Elem };
