// The entry points: readZarr / writeZarr for whole objects, readElem / writeElem for single
// elements, and the dispatched variants that let a callback intercept every element.

import type { CallOptions } from '../zarr/abort.js';
import type { CodecSpec } from '../zarr/array.js';
import { ConsolidatedStaleError, InvalidMetadataError } from '../zarr/errors.js';
import { createGroup, type Group, openGroup } from '../zarr/group.js';
import type { StoreLike } from '../zarr/store.js';
import type { AnnData } from './anndata.js';
import { convertStringsToCategoricals } from './categoricals.js';
import type { Elem } from './elems.js';
import { ANNDATA_ENCODING, writeAnnDataChildren } from './encodings/index.js';
import type { DatasetOptions, ReadOptions, ShardPolicy, WriteOptions } from './options.js';
import {
  checkKeyName,
  type ElemDesc,
  elemPath,
  encodingAttrs,
  type Node,
  type ReadCallback,
  ReadCtx,
  specOfNode,
  type WriteCallback,
  WriteCtx,
} from './registry.js';
import { validateElem } from './validate.js';

export interface ReadZarrOptions extends ReadOptions {
  /** Group path of the AnnData inside the store (default: the root). */
  path?: string;
}

export interface WriteZarrOptions extends CallOptions {
  /** Zarr format (default 3). Format 2 writes unsharded arrays and `.zmetadata`. */
  zarrFormat?: 2 | 3;
  /** 'auto' (default on v3): our policy per element kind (see README); false: unsharded. */
  shards?: 'auto' | false | ShardPolicy;
  /** Compressor of every array; null for none. Default: zstd level 3, behind a blosc byte
   * shuffle for integers wider than a byte (see the codec table in the README). */
  compressor?: CodecSpec | null;
  /** Write consolidated metadata at the end (default true). */
  consolidate?: boolean;
  /**
   * Store obs/var string columns that repeat a value (or miss one) as categoricals with sorted
   * categories, like python's `write_zarr` (default true). Works on a copy: the caller's object
   * is never changed.
   */
  convertStringsToCategoricals?: boolean;
  /** Group path of the AnnData inside the store (default: the root). */
  path?: string;
}

/** Read a whole AnnData from a store (consolidated metadata is used when present). */
export async function readZarr(store: StoreLike, opts: ReadZarrOptions = {}): Promise<AnnData> {
  const g = await openGroup(store, opts.path ?? '', { signal: opts.signal });
  const { desc, ctx } = await describeAnnData(g, opts);
  return (await ctx.materialize(desc)) as AnnData;
}

/**
 * How `g` holds an AnnData: by its encoding attributes, by the X / obs / var members of files
 * from before encoding attributes ('legacy'), or not at all (null, with the reason).
 */
export async function annDataLayout(
  g: Group,
  opts: CallOptions = {},
): Promise<{ layout: 'anndata' | 'legacy' } | { layout: null; why: string }> {
  const spec = specOfNode(g);
  if (spec.encodingType !== '') return layoutOf(spec.encodingType, []);
  return layoutOf(
    '',
    (await g.members(opts)).map((m) => m.name),
  );
}

/** `annDataLayout` of a group with encoding type `encodingType` ('' for none) and children `names`. */
export function layoutOf(
  encodingType: string,
  names: readonly string[],
): { layout: 'anndata' | 'legacy' } | { layout: null; why: string } {
  if (encodingType === 'anndata') return { layout: 'anndata' };
  if (encodingType !== '') return { layout: null, why: `its encoding-type is '${encodingType}'` };
  if (['X', 'obs', 'var'].some((k) => names.includes(k))) return { layout: 'legacy' };
  return { layout: null, why: 'it has no encoding-type and no X, obs or var' };
}

/**
 * @internal Describe the AnnData in `g` from metadata alone (no chunk is read): the first phase
 * of `readZarr`, also what the CLI's `info` and `verify` walk and what `readLazy` opens (with
 * the context `makeCtx` builds). Throws InvalidMetadata when `g` is not an AnnData group.
 */
export async function describeAnnData<C extends ReadCtx = ReadCtx>(
  g: Group,
  opts: ReadOptions = {},
  makeCtx: (legacy: boolean) => C = (legacy) => new ReadCtx(opts, undefined, legacy) as C,
): Promise<{ desc: ElemDesc; ctx: C }> {
  const found = await annDataLayout(g, opts);
  if (found.layout === null) throw notAnnData(g, found.why);
  const ctx = makeCtx(found.layout === 'legacy');
  const desc = found.layout === 'legacy' ? await ctx.describeAs(ANNDATA_ENCODING, g) : await ctx.describeNode(g);
  return { desc, ctx };
}

function notAnnData(g: Group, why: string): InvalidMetadataError {
  return new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}' is not an AnnData group: ${why}`, {
    key: g.path,
  });
}

/** Write an AnnData (replacing whatever is at the path). Everything is validated first. */
export async function writeZarr(store: StoreLike, adata: AnnData, opts: WriteZarrOptions = {}): Promise<void> {
  await validateElem(adata, '');
  const a = opts.convertStringsToCategoricals === false ? adata : convertStringsToCategoricals(adata);
  const wopts: WriteOptions = {
    zarrFormat: opts.zarrFormat ?? 3,
    shards: opts.shards ?? 'auto',
    compressor: opts.compressor,
    signal: opts.signal,
  };
  const root = await createGroup(store, opts.path ?? '', {
    zarrFormat: wopts.zarrFormat,
    attributes: encodingAttrs({ encodingType: 'anndata', encodingVersion: '0.1.0' }),
    overwrite: true,
    signal: opts.signal,
  });
  await writeAnnDataChildren(root, a, new WriteCtx(wopts));
  if (opts.consolidate !== false) await root.consolidateMetadata(opts);
}

/** Read one element (any encoding) from a group or array. */
export async function readElem(node: Node, opts: ReadOptions = {}): Promise<Elem> {
  return (await new ReadCtx(opts).read(node)) as Elem;
}

/** Read with `callback` called for every element; it may call `read` to continue as usual. */
export async function readDispatched(node: Node, callback: ReadCallback, opts: ReadOptions = {}): Promise<unknown> {
  return new ReadCtx(opts, callback).read(node);
}

export interface WriteElemOptions extends CallOptions {
  /** Storage options of the element's arrays (chunks, shards, compressors). */
  datasetOptions?: DatasetOptions;
  /** Sharding policy of arrays without explicit datasetOptions (default 'auto'). */
  shards?: 'auto' | false | ShardPolicy;
  compressor?: CodecSpec | null;
  /**
   * The store has consolidated metadata above `parent`: re-consolidate it after writing (true)
   * or refuse with ConsolidatedStale before writing anything (default).
   */
  consolidate?: boolean;
}

/** Write one element as child `key` of `parent` (replacing an existing one). */
export async function writeElem(parent: Group, key: string, elem: unknown, opts: WriteElemOptions = {}): Promise<void> {
  await writeWith(parent, key, elem, undefined, opts);
}

/** Write with `callback` called for every element; it may call `write` to continue as usual. */
export async function writeDispatched(
  parent: Group,
  key: string,
  elem: unknown,
  callback: WriteCallback,
  opts: WriteElemOptions = {},
): Promise<void> {
  await writeWith(parent, key, elem, callback, opts);
}

async function writeWith(
  parent: Group,
  key: string,
  elem: unknown,
  callback: WriteCallback | undefined,
  opts: WriteElemOptions,
): Promise<void> {
  const path = parent.path === '' ? key : `${parent.path}/${key}`;
  checkKeyName(key, path);
  await validateElem(elem, path);
  const consolidatedAt = await parent.consolidatedAbove(key, opts);
  if (consolidatedAt !== null && !opts.consolidate) {
    throw new ConsolidatedStaleError(
      'ConsolidatedStale',
      `'${elemPath(consolidatedAt)}' has consolidated metadata that writing '${elemPath(parent.path === '' ? key : `${parent.path}/${key}`)}' would make stale; pass { consolidate: true } to re-consolidate after the write`,
      { key: parent.path === '' ? key : `${parent.path}/${key}` },
    );
  }
  const ctx = new WriteCtx(
    { zarrFormat: parent.zarrFormat, shards: opts.shards ?? 'auto', compressor: opts.compressor, signal: opts.signal },
    callback,
  );
  await ctx.write(parent, key, elem, opts.datasetOptions);
  if (consolidatedAt !== null) {
    const g = await openGroup(parent.store, consolidatedAt, {
      mode: 'r+',
      consolidated: 'ignore',
      signal: opts.signal,
    });
    await g.consolidateMetadata(opts);
  }
}
