// The encoding registry: readers keyed by (encoding-type, encoding-version), writers keyed by
// encoding-type, and the read/write contexts that carry options, element paths and the
// dispatch callbacks of readDispatched / writeDispatched through the recursion.

import type { CodecSpec, ZArray } from '../zarr/array.js';
import { InvalidInputError, InvalidMetadataError, UnsupportedError } from '../zarr/errors.js';
import type { Group, Member } from '../zarr/group.js';
import type { Elem, IOSpec } from './elems.js';
import type { ShardPolicy } from './layout.js';

export type Node = Group | ZArray;

export function isGroup(node: Node): node is Group {
  return 'members' in node;
}

/** Per-array storage options (python's `dataset_kwargs`). */
export interface DatasetOptions {
  /** Inner chunk shape (chunk shape when unsharded). */
  chunks?: number[];
  /** Shard shape, or false for an unsharded array (v3 only). */
  shards?: number[] | false;
  compressors?: CodecSpec | CodecSpec[] | null;
}

export interface ReadOptions {
  /**
   * What to do with a node whose encoding is unknown, or missing in a file that has encodings:
   * 'error' (default) throws InvalidMetadata naming the element; 'raw' returns arrays as dense
   * arrays and groups as dicts of their children.
   */
  fallback?: 'error' | 'raw';
  signal?: AbortSignal;
}

export interface WriteOptions {
  zarrFormat: 2 | 3;
  /** 'auto' = our policy per element kind; false = unsharded; or the policy's byte targets. */
  shards: 'auto' | false | ShardPolicy;
  /** Default compressor of every array (zstd level 3). */
  compressor?: CodecSpec | null;
  signal?: AbortSignal;
}

export type ReadFn = (node: Node) => Promise<unknown>;
export type ReadCallback = (read: ReadFn, name: string, node: Node, info: { iospec: IOSpec }) => Promise<unknown>;
export type WriteFn = (parent: Group, key: string, elem: unknown, datasetOptions?: DatasetOptions) => Promise<void>;
export type WriteCallback = (
  write: WriteFn,
  parent: Group,
  name: string,
  elem: unknown,
  info: { iospec: IOSpec; datasetOptions: DatasetOptions },
) => Promise<void>;

/** Carries options, cached member listings and the dispatch callback down a read. */
export class ReadCtx {
  readonly #members = new WeakMap<Group, Promise<Map<string, Member['kind']>>>();

  constructor(
    readonly opts: ReadOptions = {},
    readonly callback?: ReadCallback,
    /** The file predates encoding attributes: infer array / dict for every node. */
    readonly legacy = false,
  ) {}

  /** Read a node through the dispatch callback (when set) or the registry. */
  read(node: Node): Promise<unknown> {
    const defaultRead: ReadFn = (n) => readRegistered(n, this);
    if (!this.callback) return defaultRead(node);
    return this.callback(defaultRead, baseName(node.path), node, { iospec: specOfNode(node) });
  }

  /** The child `name` of `group`, opened as array or group per its kind. */
  async child(group: Group, name: string): Promise<Node> {
    const kinds = await this.members(group);
    const kind = kinds.get(name);
    if (kind === undefined) {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(group)}' has no element '${name}'`, {
        key: joinPath(group.path, name),
      });
    }
    return kind === 'array' ? group.openArray(name, this.opts) : group.openGroup(name, this.opts);
  }

  async has(group: Group, name: string): Promise<boolean> {
    return (await this.members(group)).has(name);
  }

  /** Member names in listing order. */
  async names(group: Group): Promise<string[]> {
    return [...(await this.members(group)).keys()];
  }

  /** Read child `name` of `group`. */
  async readChild(group: Group, name: string): Promise<unknown> {
    return this.read(await this.child(group, name));
  }

  members(group: Group): Promise<Map<string, Member['kind']>> {
    let m = this.#members.get(group);
    if (!m) {
      m = group.members(this.opts).then((ms) => new Map(ms.map((x) => [x.name, x.kind])));
      this.#members.set(group, m);
    }
    return m;
  }
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
    const iospec = writerFor(elem, joinPath(parent.path, key)).spec(elem);
    return this.callback(defaultWrite, parent, key, elem, { iospec, datasetOptions });
  }
}

export interface Reader {
  kind: 'array' | 'group';
  read(node: Node, ctx: ReadCtx): Promise<unknown>;
}

export interface Writer {
  /** Does this writer handle `elem`? Writers are tried in registration order. */
  accepts(elem: unknown): boolean;
  /** The encoding it writes for `elem`. */
  spec(elem: unknown): IOSpec;
  write(parent: Group, key: string, elem: unknown, ctx: WriteCtx, datasetOptions: DatasetOptions): Promise<void>;
}

const READERS = new Map<string, Reader>();
const WRITERS: Writer[] = [];

export function registerReader(encodingType: string, encodingVersion: string, reader: Reader): void {
  READERS.set(`${encodingType}@${encodingVersion}`, reader);
}

export function registerWriter(writer: Writer): void {
  WRITERS.push(writer);
}

/** The encoding attributes to put on a node. */
export function encodingAttrs(spec: IOSpec): Record<string, string> {
  return { 'encoding-type': spec.encodingType, 'encoding-version': spec.encodingVersion };
}

/** `encoding-type` / `encoding-version` of a node ('' when missing). */
export function specOfNode(node: Node): IOSpec {
  const a = node.attrs;
  return {
    encodingType: typeof a['encoding-type'] === 'string' ? a['encoding-type'] : '',
    encodingVersion: typeof a['encoding-version'] === 'string' ? a['encoding-version'] : '',
  };
}

/** The element path as users see it: '/obs/cell_type'. */
export function elemPath(node: Node | string): string {
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

async function readRegistered(node: Node, ctx: ReadCtx): Promise<unknown> {
  const spec = specOfNode(node);
  const kind = isGroup(node) ? 'group' : 'array';
  if (spec.encodingType === '') {
    if (ctx.legacy || ctx.opts.fallback === 'raw') return readRaw(node, ctx);
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' has no encoding-type attribute; pass { fallback: 'raw' } to read it as raw arrays`,
      { key: node.path },
    );
  }
  const reader = READERS.get(`${spec.encodingType}@${spec.encodingVersion}`);
  if (!reader) {
    if (ctx.opts.fallback === 'raw') return readRaw(node, ctx);
    const versions = [...READERS.keys()]
      .filter((k) => k.startsWith(`${spec.encodingType}@`))
      .map((k) => k.split('@')[1]);
    const why = versions.length ? `unsupported version (this reader knows ${versions.join(', ')})` : 'unknown encoding';
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' has encoding ${spec.encodingType} ${spec.encodingVersion}: ${why}; pass { fallback: 'raw' } to read it as raw arrays`,
      { key: node.path },
    );
  }
  if (reader.kind !== kind) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(node)}' is ${kind === 'array' ? 'an array' : 'a group'} but encoding ${spec.encodingType} is stored as ${reader.kind === 'array' ? 'an array' : 'a group'}`,
      { key: node.path },
    );
  }
  return reader.read(node, ctx);
}

/** Legacy / fallback read: arrays as dense arrays, groups as dicts of their children. */
async function readRaw(node: Node, ctx: ReadCtx): Promise<unknown> {
  if (!isGroup(node)) {
    // a structured dtype is a rec-array even without encoding attributes (anndata <= 0.7)
    const rec = node.dtype === 'record' ? READERS.get('rec-array@0.2.0') : undefined;
    if (rec) return rec.read(node, ctx);
    const c = await node.get(null, ctx.opts);
    return { dtype: node.dtype, data: c.data, shape: c.shape };
  }
  const out: Record<string, unknown> = {};
  for (const name of await ctx.names(node)) out[name] = await ctx.readChild(node, name);
  return out;
}

function writerFor(elem: unknown, path: string): Writer {
  const w = WRITERS.find((x) => x.accepts(elem));
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
  await writerFor(elem, joinPath(parent.path, key)).write(parent, key, elem, ctx, datasetOptions);
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
  return writerFor(elem, path).spec(elem);
}

export type { Elem };
