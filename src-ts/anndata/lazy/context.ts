// The lazy reader's read context: it lives as long as the LazyAnnData (so categories and the
// like are read once), probes only the members an encoding's layout names on stores without
// consolidated metadata, and turns a read that fails because the store changed after the open
// (stale consolidated metadata) into a ConsolidatedStale error naming the element.

import { ZArray } from '../../zarr/array.js';
import { ConsolidatedStaleError, isZarrsError, type ZarrsError } from '../../zarr/errors.js';
import type { Group, Member } from '../../zarr/group.js';
import type { ReadOptions } from '../options.js';
import { type ElemDesc, type ElemSelection, elemPath, encodingOf, ReadCtx, specOfNode } from '../registry.js';

/** Errors a changed store cannot explain: the caller's selection, an abort, a missing codec. */
const NOT_STALE = new Set(['InvalidSelection', 'OutOfBounds', 'InvalidInput', 'Aborted', 'Unsupported']);

/** Children an AnnData layout names that are groups: probed as groups first, the rest as arrays. */
const GROUP_NAMES = new Set(['obs', 'var', 'obsm', 'varm', 'obsp', 'varp', 'layers', 'uns', 'raw']);

/** A probed child: its kind, and the node when probing opened it (null: there is none). */
type Probed = { kind: Member['kind']; node: ZArray | Group | null } | null;

/** What every context of one open shares (withSignal copies share it too). */
interface Nodes {
  readonly members: WeakMap<Group, Promise<Map<string, Member['kind']>>>;
  readonly probed: WeakMap<Group, Map<string, Promise<Probed>>>;
}

export class LazyCtx extends ReadCtx {
  #nodes: Nodes = { members: new WeakMap(), probed: new WeakMap() };
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

  override get outlivesRead(): boolean {
    return true;
  }

  /** The same context (and its cached reads) with another abort signal. */
  withSignal(signal: AbortSignal | undefined): LazyCtx {
    if (signal === undefined || signal === this.opts.signal) return this;
    const c = new LazyCtx({ ...this.opts, signal }, this.legacy, this.consolidated);
    c.cache = this.cache;
    c.#nodes = this.#nodes;
    return c;
  }

  /**
   * Members of `group`. Without consolidated metadata, the children its encoding names are
   * probed one by one (an AnnData's X, obs, ...; a dataframe's columns) instead of listing the
   * group, which costs a request per page and fails on stores that cannot list (HTTP). A probe
   * opens the child (so its metadata is read once, not once to probe and again to open).
   */
  override members(group: Group): Promise<Map<string, Member['kind']>> {
    const names = group.consolidated ? undefined : encodingOf(specOfNode(group))?.members?.(group.attrs);
    if (names === undefined) return super.members(group);
    let m = this.#nodes.members.get(group);
    if (!m) {
      m = Promise.all(names.map((n) => this.#probe(group, n))).then(
        (found) => new Map(names.flatMap((n, i) => (found[i] === null ? [] : [[n, found[i].kind] as const]))),
      );
      this.#nodes.members.set(group, m);
    }
    return m;
  }

  /** Child `name` of `group` opened as the kind its name suggests, then as the other kind. */
  #probe(group: Group, name: string): Promise<Probed> {
    let byName = this.#nodes.probed.get(group);
    if (!byName) {
      byName = new Map();
      this.#nodes.probed.set(group, byName);
    }
    let p = byName.get(name);
    if (!p) {
      p = probeByOpening(group, name, this.opts);
      byName.set(name, p);
    }
    return p;
  }

  override async openChildArray(group: Group, name: string): Promise<ZArray> {
    const node = (await this.#nodes.probed.get(group)?.get(name))?.node;
    return node instanceof ZArray ? node : super.openChildArray(group, name);
  }

  override async openChildGroup(group: Group, name: string): Promise<Group> {
    const node = (await this.#nodes.probed.get(group)?.get(name))?.node;
    return node instanceof ZArray || !node ? super.openChildGroup(group, name) : node;
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

/**
 * Probe child `name` by opening it: as a group when the layout names groups so, else as an
 * array; a node of the other kind is opened as that. A child that fails to open for another
 * reason (absent, a codec this library lacks) is probed by its metadata alone, so opening it
 * later reports that error as before.
 */
async function probeByOpening(group: Group, name: string, opts: ReadOptions): Promise<Probed> {
  const kinds: Member['kind'][] = GROUP_NAMES.has(name) ? ['group', 'array'] : ['array', 'group'];
  for (const kind of kinds) {
    try {
      const node = kind === 'array' ? await group.openArray(name, opts) : await group.openGroup(name, opts);
      return { kind, node };
    } catch (e) {
      if (!isZarrsError(e)) throw e;
      if (otherKind(e as ZarrsError)) continue;
      // absent, or unopenable: the metadata alone decides (never a guess from the message)
      const found = await probe(group, name, opts);
      return found === null ? null : { kind: found, node: null };
    }
  }
  return null;
}

/** The open failed because the node is of the other kind ("'obs/cat' is a group, not an array"). */
function otherKind(e: ZarrsError): boolean {
  return e.code === 'NotFound' && /is an? (array|group), not an? (array|group)/.test(e.message);
}

/** The kind of child `name` from its metadata, or null when there is none. */
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
