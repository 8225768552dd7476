// Stores: filesystem paths, file:// and memory://<name> URLs, and object stores (s3://, gs://,
// az:// / abfs://, http(s)://), with exact request accounting and an explicit lifecycle.

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

  // ---- object stores (ignored by local and memory stores). Unset values come from the
  // environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
  // AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP; GOOGLE_SERVICE_ACCOUNT(_KEY),
  // GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY,
  // AZURE_STORAGE_SAS_KEY, AZURE_STORAGE_USE_EMULATOR, AZURE_STORAGE_ENDPOINT.

  /** S3 access key id. */
  accessKeyId?: string;
  /** S3 secret access key. */
  secretAccessKey?: string;
  /** S3 session token (temporary credentials). */
  sessionToken?: string;
  /** S3 region (default `us-east-1`). */
  region?: string;
  /** S3-compatible server URL, Azure account URL (e.g. Azurite), or GCS base URL. */
  endpoint?: string;
  /** Allow `http://` endpoints (always on for `http://` store URLs and the Azure emulator). */
  allowHttp?: boolean;
  /** Unsigned requests, for public buckets and containers. */
  anonymous?: boolean;
  /** Azure storage account. */
  accountName?: string;
  /** Azure account key. */
  accountKey?: string;
  /** Azure SAS token. */
  sasToken?: string;
  /** Azure: talk to Azurite (its account and key; at `endpoint` when given). */
  useEmulator?: boolean;
  /** GCS service-account key (JSON text). */
  serviceAccountKey?: string;
  /** GCS service-account key file. */
  serviceAccountPath?: string;
  /** Retry budget of each request. */
  retry?: RetryOptions;
  /** Requests in flight per store (default 16). */
  maxConcurrency?: number;
  /**
   * Merge byte-range reads of one object that are at most `coalesceGapBytes` apart into one
   * request (default true).
   */
  coalesce?: boolean;
  /** Largest gap bridged when coalescing (default 1 MiB; 0 merges only touching ranges). */
  coalesceGapBytes?: number;
  /** Values larger than this are uploaded in parts (default 32 MiB). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (default 8 MiB; S3 needs at least 5 MiB). */
  multipartPartSize?: number;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables retries). */
  maxRetries?: number;
  /** Exponential backoff between attempts (default 100 ms doubling up to 5000 ms). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** No retry is started later than this after the first attempt (default 60000 ms). */
  timeoutMs?: number;
  /** Time limit of one request, body included (default 30000 ms): bounds a stalled server. */
  requestTimeoutMs?: number;
  /** Time limit to connect (default 5000 ms). */
  connectTimeoutMs?: number;
}

/**
 * Local and memory stores count one request per storage operation: a whole read (a miss
 * too), each byte range of a partial read, a write, a delete, a prefix delete, a listing.
 * Object stores count every HTTP request sent (GET, ranged GET, HEAD, PUT, multipart part,
 * DELETE, LIST page; retries too). Bytes are value bytes received and sent.
 */
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

  /** Delete every key under a node path (`''` empties the store). */
  async deletePrefix(prefix: string, opts: CallOptions = {}): Promise<void> {
    return withSignal(opts.signal, () => this.#native.deletePrefix(prefix));
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

/**
 * A Store, a filesystem path, or a URL string: `file://`, `memory://name`, `s3://bucket/prefix`,
 * `gs://bucket/prefix`, `az://container/prefix` (or `abfs://`), `http(s)://host/prefix`.
 */
export type StoreLike = Store | string | URL;

/**
 * Open a store. Without options, local paths and object stores are read-write (`http(s)://`
 * stores are always read-only), and object stores take their credentials from the
 * environment. Opening sends no request; missing credentials fail here.
 */
export async function openStore(location: string | URL, options: StoreOptions = {}): Promise<Store> {
  const loc = location instanceof URL ? location.href : location;
  const json = JSON.stringify(options);
  return new Store(callSync(() => native.NativeStore.open(loc, json)));
}

/** @internal */
export async function resolveStore(store: StoreLike, options: StoreOptions = {}): Promise<Store> {
  return store instanceof Store ? store : openStore(store, options);
}

/** @internal */
export function storeHandle(store: Store): NativeStore {
  return nativeOf(store);
}
