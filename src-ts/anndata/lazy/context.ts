// The lazy reader's read context: it lives as long as the LazyAnnData (so categories and the
// like are read once), probes only the members an encoding's layout names on stores without
// consolidated metadata, and turns a read that fails because the store changed after the open
// (stale consolidated metadata) into a ConsolidatedStale error naming the element.

import type { ZArray } from '../../zarr/array.js';
import { ConsolidatedStaleError, isZarrsError, type ZarrsError } from '../../zarr/errors.js';
import type { Group, Member } from '../../zarr/group.js';
import type { ReadOptions } from '../options.js';
import { type ElemDesc, type ElemSelection, elemPath, encodingOf, ReadCtx, specOfNode } from '../registry.js';

/** Errors a changed store cannot explain: the caller's selection, an abort, a missing codec. */
const NOT_STALE = new Set(['InvalidSelection', 'OutOfBounds', 'InvalidInput', 'Aborted', 'Unsupported']);

export class LazyCtx extends ReadCtx {
  readonly #probed = new WeakMap<Group, Promise<Map<string, Member['kind']>>>();
  /** Errors already checked against the store (a nested materialize rethrows them). */
  readonly #checked = new WeakSet<object>();

  constructor(
    opts: ReadOptions,
    legacy: boolean,
    /** Consolidated metadata was read at open: a failed read checks it against the store. */
    readonly consolidated: boolean,
  ) {
    super(opts, undefined, legacy);
  }

  /** The same context (and its cached reads) with another abort signal. */
  withSignal(signal: AbortSignal | undefined): LazyCtx {
    if (signal === undefined || signal === this.opts.signal) return this;
    const c = new LazyCtx({ ...this.opts, signal }, this.legacy, this.consolidated);
    c.cache = this.cache;
    return c;
  }

  /**
   * Members of `group`. Without consolidated metadata, the children its encoding names are
   * probed one by one (an AnnData's X, obs, ...; a dataframe's columns) instead of listing the
   * group, which costs a request per page and fails on stores that cannot list (HTTP).
   */
  override members(group: Group): Promise<Map<string, Member['kind']>> {
    const names = group.consolidated ? undefined : encodingOf(specOfNode(group))?.members?.(group.attrs);
    if (names === undefined) return super.members(group);
    let m = this.#probed.get(group);
    if (!m) {
      m = Promise.all(names.map((n) => probe(group, n, this.opts))).then(
        (kinds) => new Map(names.flatMap((n, i) => (kinds[i] === null ? [] : [[n, kinds[i]] as const]))),
      );
      this.#probed.set(group, m);
    }
    return m;
  }

  override async materialize(desc: ElemDesc, sel?: ElemSelection): Promise<unknown> {
    try {
      return await super.materialize(desc, sel);
    } catch (e) {
      if (!this.consolidated || !isZarrsError(e) || NOT_STALE.has(e.code) || this.#checked.has(e)) throw e;
      this.#checked.add(e);
      // the check's own failure (the store is unreachable, say) must not hide the read's
      const changed = await firstChanged(desc, this.opts).catch(() => null);
      if (changed === null) throw e;
      const err = new ConsolidatedStaleError(
        'ConsolidatedStale',
        `'${elemPath(desc.path)}': the store changed after it was opened ('${elemPath(changed)}' no longer matches the consolidated metadata read at open); open it again`,
        { key: changed, cause: e },
      );
      this.#checked.add(err);
      throw err;
    }
  }
}

/** The kind of child `name`, or null when there is none. */
async function probe(group: Group, name: string, opts: ReadOptions): Promise<Member['kind'] | null> {
  try {
    return (await group.memberMetadata(name, opts)).kind;
  } catch (e) {
    if (isZarrsError(e) && (e as ZarrsError).code === 'NotFound') return null;
    throw e;
  }
}

/** The path of the first array of `desc` whose stored metadata differs from what was opened. */
async function firstChanged(desc: ElemDesc, opts: ReadOptions): Promise<string | null> {
  const arrays: ZArray[] = [];
  const walk = (d: ElemDesc) => {
    arrays.push(...Object.values(d.arrays));
    for (const c of Object.values(d.children)) walk(c);
  };
  walk(desc);
  const fresh = await Promise.all(arrays.map((a) => unchanged(a, opts)));
  const i = fresh.indexOf(false);
  return i < 0 ? null : arrays[i].path;
}

/** The fields of an array's metadata that decide where its values are and how they decode. */
const LAYOUT: Record<2 | 3, string[]> = {
  2: ['shape', 'chunks', 'dtype', 'compressor', 'filters', 'order'],
  3: ['shape', 'data_type', 'chunk_grid', 'chunk_key_encoding', 'codecs'],
};

async function unchanged(a: ZArray, opts: ReadOptions): Promise<boolean> {
  const key = `${a.path}/${a.zarrFormat === 3 ? 'zarr.json' : '.zarray'}`;
  const bytes = await a.store.get(key, opts);
  if (bytes === null) return false;
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return false;
  }
  const opened = a.metadata;
  return LAYOUT[a.zarrFormat].every((k) => canonical(stored[k]) === canonical(opened[k]));
}

/** JSON with sorted object keys (documents written by different tools order keys differently). */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}
