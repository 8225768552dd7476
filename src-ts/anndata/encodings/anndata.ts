// anndata 0.1.0 and raw 0.1.0: the top-level group and the frozen `raw` snapshot. Also reads
// the legacy layout (no encoding attributes, `raw.X` / `raw.var` / `raw.varm` root keys).

import { InvalidInputError, InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type AlignedElem, AnnData, type Raw } from '../anndata.js';
import { DataFrame } from '../dataframe.js';
import { isDense, isSparse, type Matrix } from '../elems.js';
import {
  type ElemDesc,
  type Encoding,
  elemPath,
  encodingAttrs,
  joinPath,
  materializeChildren,
  noSelection,
  type ReadCtx,
  register,
  type WriteCtx,
} from '../registry.js';

const ANNDATA = { encodingType: 'anndata', encodingVersion: '0.1.0' };
const RAW = { encodingType: 'raw', encodingVersion: '0.1.0' };
const MAPPINGS = ['obsm', 'varm', 'obsp', 'varp', 'layers', 'uns'] as const;

function expect<T>(ok: (x: unknown) => x is T, x: unknown, g: string, key: string, what: string): T {
  if (!ok(x)) {
    const path = joinPath(g, key);
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' should be ${what}`, { key: path });
  }
  return x;
}
const isFrame = (x: unknown): x is DataFrame => x instanceof DataFrame;
const isMatrix = (x: unknown): x is Matrix => isDense(x) || isSparse(x);
const isRecord = (x: unknown): x is Record<string, never> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
const isRaw = (x: unknown): x is Raw | null => x === null || (isRecord(x) && 'X' in x);

/** Describe the children of `g` that are among `keys` (in that order). */
async function describePresent(g: Group, keys: readonly string[], ctx: ReadCtx): Promise<Record<string, ElemDesc>> {
  const present = await Promise.all(keys.map((k) => ctx.has(g, k)));
  const names = keys.filter((_, i) => present[i]);
  const descs = await Promise.all(names.map((k) => ctx.describeChild(g, k)));
  return Object.fromEntries(names.map((k, i) => [k, descs[i]]));
}

const ANNDATA_KEYS = ['X', 'obs', 'var', 'raw', ...MAPPINGS, 'raw.X', 'raw.var', 'raw.varm'] as const;

/** An AnnData group (also legacy files without encoding attributes). */
export const ANNDATA_ENCODING: Encoding = {
  type: 'anndata',
  version: '0.1.0',
  node: 'group',
  describe: async (node, ctx) => {
    const children = await describePresent(node as Group, ANNDATA_KEYS, ctx);
    const rows = children.obs?.shape?.[0] ?? children.X?.shape?.[0] ?? null;
    const cols = children.var?.shape?.[0] ?? children.X?.shape?.[1] ?? null;
    return { kind: 'anndata', shape: rows === null || cols === null ? null : [rows, cols], children };
  },
  members: () => ANNDATA_KEYS,
  materialize: async (desc, ctx, sel) => {
    noSelection(desc, sel);
    return assembleAnnData(desc, await materializeChildren(desc, ctx));
  },
  accepts: (e) => e instanceof AnnData,
  write: async (parent, key, e, ctx) => {
    const a = e as AnnData;
    await writeAnnDataChildren(await createGroup(parent, key, encodingAttrs(ANNDATA), ctx), a, ctx);
  },
};

function assembleAnnData(desc: ElemDesc, c: Record<string, unknown>): AnnData {
  const g = desc.path;
  const init: Record<string, unknown> = {};
  if (c.X !== undefined && c.X !== null) init.X = expect(isMatrix, c.X, g, 'X', 'a dense or sparse matrix');
  if (c.obs !== undefined) init.obs = expect(isFrame, c.obs, g, 'obs', 'a dataframe');
  if (c.var !== undefined) init.var = expect(isFrame, c.var, g, 'var', 'a dataframe');
  for (const k of MAPPINGS) {
    if (c[k] !== undefined && c[k] !== null) init[k] = expect(isRecord, c[k], g, k, 'a dict');
  }
  if (c.raw !== undefined) init.raw = expect(isRaw, c.raw, g, 'raw', 'a raw group or null');
  else if (c['raw.X'] !== undefined) {
    // legacy: raw stored as root keys
    const rx = expect(isMatrix, c['raw.X'], g, 'raw.X', 'a matrix');
    const rv = c['raw.var'];
    const rm = c['raw.varm'];
    init.raw = {
      X: rx,
      var: rv === undefined ? new DataFrame({ nRows: rx.shape[1] }) : expect(isFrame, rv, g, 'raw.var', 'a dataframe'),
      varm: rm === undefined ? {} : expect(isRecord, rm, g, 'raw.varm', 'a dict'),
    };
  }
  const adata = new AnnData(init as never);
  try {
    adata.validate();
  } catch (e) {
    const err = e as InvalidInputError;
    const key = g === '' ? (err.key ?? '') : `${g}/${err.key ?? ''}`;
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}': ${err.message}`, { key });
  }
  return adata;
}

register(ANNDATA_ENCODING);

const RAW_KEYS = ['X', 'var', 'varm'] as const;

register({
  type: 'raw',
  version: '0.1.0',
  node: 'group',
  describe: async (node, ctx) => ({
    kind: 'anndata-raw',
    children: await describePresent(node as Group, RAW_KEYS, ctx),
  }),
  members: () => RAW_KEYS,
  materialize: async (desc, ctx, sel): Promise<Raw> => {
    noSelection(desc, sel);
    const { X, var: vr, varm } = await materializeChildren(desc, ctx);
    const g = desc.path;
    const Xm = expect(isMatrix, X, g, 'X', 'a dense or sparse matrix');
    return {
      X: Xm,
      var: vr === undefined ? new DataFrame({ nRows: Xm.shape[1] }) : expect(isFrame, vr, g, 'var', 'a dataframe'),
      varm: varm === undefined ? {} : (expect(isRecord, varm, g, 'varm', 'a dict') as Record<string, AlignedElem>),
    };
  },
  /** `raw` is written from a plain `{ X, var, varm }` object under the key 'raw'. */
  accepts: (e) => isRecord(e) && 'X' in e && 'var' in e && (e as unknown as { var: unknown }).var instanceof DataFrame,
  write: async (parent, key, e, ctx) => {
    const r = e as unknown as Raw;
    if (!isMatrix(r.X)) {
      throw new InvalidInputError('InvalidInput', `'${elemPath(parent)}/${key}/X' must be a matrix`, { key });
    }
    const g = await createGroup(parent, key, encodingAttrs(RAW), ctx);
    await Promise.all([
      ctx.write(g, 'X', r.X),
      ctx.write(g, 'var', r.var),
      ctx.write(g, 'varm', { ...(r.varm ?? {}) }),
    ]);
  },
});

/** Write the children of an AnnData group (X, obs, var, mappings, uns, raw) concurrently. */
export async function writeAnnDataChildren(g: Group, a: AnnData, ctx: WriteCtx): Promise<void> {
  const jobs: Promise<void>[] = [ctx.write(g, 'obs', a.obs), ctx.write(g, 'var', a.var)];
  if (a.X) jobs.push(ctx.write(g, 'X', a.X));
  for (const k of MAPPINGS) jobs.push(ctx.write(g, k, { ...a[k] }));
  jobs.push(ctx.write(g, 'raw', a.raw === null ? null : { ...a.raw }));
  await Promise.all(jobs);
}

async function createGroup(parent: Group, key: string, attrs: Record<string, unknown>, ctx: WriteCtx) {
  return parent.createGroup(key, {
    zarrFormat: ctx.opts.zarrFormat,
    attributes: attrs,
    overwrite: true,
    signal: ctx.opts.signal,
  });
}
