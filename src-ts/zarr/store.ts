// Stores: filesystem paths, file:// and memory://<name> URLs (object stores come next), with
// request accounting and an explicit lifecycle.

import { type CallOptions, withSignal } from './abort.js';
import { callSync } from './errors.js';
import { type NativeStore, native } from './native.js';

export interface StoreOptions {
  /** Refuse all writes with a ReadOnly error. */
  readOnly?: boolean;
  /**
   * What a metadata write below a group with consolidated metadata does: `'update'` (default)
   * patches the consolidated copy; `'refuse'` throws ConsolidatedStale before writing.
   */
  consolidatedWrites?: 'update' | 'refuse';
}

export interface StoreStats {
  requests: number;
  bytesRead: number;
  bytesWritten: number;
}

let nativeOf: (s: Store) => NativeStore;

export class Store {
  readonly #native: NativeStore;

  static {
    nativeOf = (s) => s.#native;
  }

  /** Use `openStore`. */
  constructor(handle: NativeStore) {
    this.#native = handle;
  }

  /** The location the store was opened from. */
  get location(): string {
    return this.#native.location;
  }

  get readOnly(): boolean {
    return this.#native.readOnly;
  }

  /** The value at `key`, or null if absent. */
  async get(key: string, opts: CallOptions = {}): Promise<Uint8Array | null> {
    return withSignal(opts.signal, () => this.#native.get(key));
  }

  /** `length` bytes from `offset` (to the end when `length` is omitted), or null if absent. */
  async getRange(key: string, offset: number, length?: number, opts: CallOptions = {}): Promise<Uint8Array | null> {
    return withSignal(opts.signal, () => this.#native.getRange(key, offset, length));
  }

  /** Write a whole value (atomically on local stores). */
  async set(key: string, value: Uint8Array, opts: CallOptions = {}): Promise<void> {
    return withSignal(opts.signal, () => this.#native.set(key, value));
  }

  async delete(key: string, opts: CallOptions = {}): Promise<void> {
    return withSignal(opts.signal, () => this.#native.delete(key));
  }

  /** Keys under a node path (`''` lists everything), sorted. */
  async list(prefix = '', opts: CallOptions = {}): Promise<string[]> {
    return withSignal(opts.signal, () => this.#native.list(prefix));
  }

  /** Requests and bytes since opening (or the last `resetStats`). */
  stats(): StoreStats {
    return callSync(() => this.#native.stats());
  }

  resetStats(): void {
    this.#native.resetStats();
  }

  /** Close the store: later calls on it, and on arrays and groups opened from it, throw. */
  close(): void {
    this.#native.close();
  }
}

/** A Store, a filesystem path, or a URL string (`file://`, `memory://name`). */
export type StoreLike = Store | string | URL;

/** Open a store. Without options, local paths are read-write. */
export async function openStore(location: string | URL, options: StoreOptions = {}): Promise<Store> {
  const loc = location instanceof URL ? location.href : location;
  return new Store(callSync(() => native.NativeStore.open(loc, options)));
}

/** @internal */
export async function resolveStore(store: StoreLike, options: StoreOptions = {}): Promise<Store> {
  return store instanceof Store ? store : openStore(store, options);
}

/** @internal */
export function storeHandle(store: Store): NativeStore {
  return nativeOf(store);
}
