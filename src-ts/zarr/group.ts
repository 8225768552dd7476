// Groups and the top-level entry points (openGroup, createGroup, openArray, createArray,
// consolidateMetadata).

import { type CallOptions, withSignal } from './abort.js';
import { type CreateArrayOptions, nativeCreateOptions, ZArray } from './array.js';
import type { DataType } from './dtype.js';
import { callSync } from './errors.js';
import { type NativeGroup, native } from './native.js';
import { resolveStore, type Store, type StoreLike, storeHandle } from './store.js';

export interface OpenGroupOptions extends CallOptions {
  /** 'r' read-only (default), 'r+' read/write, 'a' create if missing, 'w' (re)create. */
  mode?: 'r' | 'r+' | 'a' | 'w';
  /** Use consolidated metadata when present ('auto', default), insist on it, or ignore it. */
  consolidated?: 'auto' | 'require' | 'ignore';
  /**
   * The format when known: 2 skips the `zarr.json` probe, so a consolidated v2 hierarchy
   * opens with one request (`.zmetadata`) instead of two.
   */
  zarrFormat?: 2 | 3;
}

export interface CreateGroupOptions extends CallOptions {
  zarrFormat?: 2 | 3;
  attributes?: Record<string, unknown>;
  overwrite?: boolean;
}

export interface Member {
  name: string;
  kind: 'array' | 'group';
}

/** A child's metadata as stored, read without opening it (no codec or data type is checked). */
export interface MemberMetadata {
  kind: 'array' | 'group';
  zarrFormat: 2 | 3;
  attributes: Record<string, unknown>;
  /** The metadata document: `zarr.json`, or the v2 `.zarray` / `.zgroup`. */
  metadata: Record<string, unknown>;
}

interface Description {
  path: string;
  zarrFormat: 2 | 3;
  attributes: Record<string, unknown>;
  consolidated: boolean;
}

export class Group {
  readonly #native: NativeGroup;
  readonly #store: Store;
  #desc: Description;

  /** @internal use openGroup / createGroup */
  constructor(handle: NativeGroup, store: Store) {
    this.#native = handle;
    this.#store = store;
    this.#desc = JSON.parse(callSync(() => handle.describe())) as Description;
  }

  get store(): Store {
    return this.#store;
  }
  get path(): string {
    return this.#desc.path;
  }
  get zarrFormat(): 2 | 3 {
    return this.#desc.zarrFormat;
  }
  get attrs(): Record<string, unknown> {
    return structuredClone(this.#desc.attributes);
  }
  /** Whether member lookups are served from consolidated metadata (no store requests). */
  get consolidated(): boolean {
    return this.#desc.consolidated;
  }

  async setAttributes(attrs: Record<string, unknown>, opts: CallOptions = {}): Promise<void> {
    const json = JSON.stringify(attrs);
    this.#desc = JSON.parse(await withSignal(opts.signal, () => this.#native.setAttributes(json))) as Description;
  }

  /** Direct children, sorted by name. */
  async members(opts: CallOptions = {}): Promise<Member[]> {
    return (await withSignal(opts.signal, () => this.#native.members())) as Member[];
  }

  /**
   * The stored metadata of child `name` without opening it: what a caller can inspect of an
   * array whose codecs or data type this library cannot decode. Served from consolidated
   * metadata when the group has it.
   */
  async memberMetadata(name: string, opts: CallOptions = {}): Promise<MemberMetadata> {
    return JSON.parse(await withSignal(opts.signal, () => this.#native.memberMetadata(name))) as MemberMetadata;
  }

  /** Open a child array; pass the expected dtype as a type argument to narrow `get()`'s data. */
  async openArray<D extends DataType = DataType>(name: string, opts: CallOptions = {}): Promise<ZArray<D>> {
    return new ZArray<D>(await withSignal(opts.signal, () => this.#native.openArray(name)), this.#store);
  }

  async openGroup(name: string, opts: CallOptions = {}): Promise<Group> {
    return new Group(await withSignal(opts.signal, () => this.#native.openGroup(name)), this.#store);
  }

  async createArray<D extends DataType>(
    name: string,
    options: CreateArrayOptions<D> & CallOptions,
  ): Promise<ZArray<D>> {
    const { signal, ...o } = options;
    const n = nativeCreateOptions(o);
    return new ZArray<D>(await withSignal(signal, () => this.#native.createArray(name, n)), this.#store);
  }

  async createGroup(name: string, options: CreateGroupOptions = {}): Promise<Group> {
    const o = groupOptions(options);
    return new Group(await withSignal(options.signal, () => this.#native.createGroup(name, o)), this.#store);
  }

  /** A text tree of the hierarchy, like zarr-python's `group.tree()`. */
  async tree(opts: CallOptions = {}): Promise<string> {
    return withSignal(opts.signal, () => this.#native.tree());
  }

  /**
   * @internal The outermost group whose consolidated metadata writing child `name` would make
   * stale (its path), or null.
   */
  async consolidatedAbove(name: string, opts: CallOptions = {}): Promise<string | null> {
    return withSignal(opts.signal, () => this.#native.consolidatedAbove(name));
  }

  /** Write consolidated metadata for everything below this group (v3 inline, v2 .zmetadata). */
  async consolidateMetadata(opts: CallOptions = {}): Promise<void> {
    await withSignal(opts.signal, () => this.#native.consolidate());
    this.#desc = JSON.parse(callSync(() => this.#native.describe())) as Description;
  }
}

function groupOptions(o: CreateGroupOptions) {
  return {
    zarrFormat: o.zarrFormat,
    attributesJson: o.attributes === undefined ? undefined : JSON.stringify(o.attributes),
    overwrite: o.overwrite,
  };
}

/**
 * The key a conversion keeps its state under until the store is complete. Its root metadata is
 * written last, so a store with this key and no root group is unfinished, and opening it (in
 * any mode) fails with `Incomplete` instead of reading or creating an empty group.
 */
export const UNFINISHED_KEY = 'zarrs-node-convert/plan.json';

export async function openGroup(store: StoreLike, path = '', options: OpenGroupOptions = {}): Promise<Group> {
  const s = await resolveStore(store);
  const h = storeHandle(s);
  return new Group(
    await withSignal(options.signal, () =>
      native.openGroup(h, path, options.mode, options.consolidated, options.zarrFormat),
    ),
    s,
  );
}

export async function createGroup(store: StoreLike, path = '', options: CreateGroupOptions = {}): Promise<Group> {
  const s = await resolveStore(store);
  const h = storeHandle(s);
  const o = groupOptions(options);
  return new Group(await withSignal(options.signal, () => native.createGroup(h, path, o)), s);
}

/** Options of the top-level `openArray`. */
export interface OpenArrayOptions extends CallOptions {
  /** Read only this format's metadata (2: `.zarray`, 3: `zarr.json`); default: v3 when a path holds both. */
  zarrFormat?: 2 | 3;
}

/** Open an array; pass the expected dtype as a type argument to narrow `get()`'s data. */
export async function openArray<D extends DataType = DataType>(
  store: StoreLike,
  path = '',
  opts: OpenArrayOptions = {},
): Promise<ZArray<D>> {
  const s = await resolveStore(store);
  const h = storeHandle(s);
  return new ZArray<D>(await withSignal(opts.signal, () => native.openArray(h, path, opts.zarrFormat)), s);
}

export async function createArray<D extends DataType>(
  store: StoreLike,
  path: string,
  options: CreateArrayOptions<D> & CallOptions,
): Promise<ZArray<D>> {
  const s = await resolveStore(store);
  const h = storeHandle(s);
  const { signal, ...o } = options;
  const n = nativeCreateOptions(o);
  return new ZArray<D>(await withSignal(signal, () => native.createArray(h, path, n)), s);
}

/** Consolidate the metadata below `path` (v3: inline in zarr.json; v2: .zmetadata). */
export async function consolidateMetadata(store: StoreLike, path = '', opts: CallOptions = {}): Promise<void> {
  const s = await resolveStore(store);
  const h = storeHandle(s);
  await withSignal(opts.signal, () => native.consolidateMetadata(h, path));
}
