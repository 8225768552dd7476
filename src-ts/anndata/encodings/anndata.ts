// anndata 0.1.0 and raw 0.1.0: the top-level group and the frozen `raw` snapshot. Also reads
// the legacy layout (no encoding attributes, `raw.X` / `raw.var` / `raw.varm` root keys).

import { InvalidInputError, InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type AlignedElem, AnnData, type Raw } from '../anndata.js';
import { DataFrame } from '../dataframe.js';
import { isDense, isSparse, type Matrix } from '../elems.js';
import { elemPath, encodingAttrs, type ReadCtx, registerReader, registerWriter, type WriteCtx } from '../registry.js';

const ANNDATA = { encodingType: 'anndata', encodingVersion: '0.1.0' };
const RAW = { encodingType: 'raw', encodingVersion: '0.1.0' };
const MAPPINGS = ['obsm', 'varm', 'obsp', 'varp', 'layers', 'uns'] as const;

function expect<T>(ok: (x: unknown) => x is T, x: unknown, g: Group, key: string, what: string): T {
  if (!ok(x)) {
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}/${key}' should be ${what}`, {
      key: g.path === '' ? key : `${g.path}/${key}`,
    });
  }
  return x;
}
const isFrame = (x: unknown): x is DataFrame => x instanceof DataFrame;
const isMatrix = (x: unknown): x is Matrix => isDense(x) || isSparse(x);
const isRecord = (x: unknown): x is Record<string, never> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;
const isRaw = (x: unknown): x is Raw | null => x === null || (isRecord(x) && 'X' in x);

/** Read an AnnData group (also legacy files without encoding attributes). */
export async function readAnnDataGroup(g: Group, ctx: ReadCtx): Promise<AnnData> {
  const get = async (key: string) => ((await ctx.has(g, key)) ? ctx.readChild(g, key) : undefined);
  const [X, obs, vr, raw, ...maps] = await Promise.all([
    get('X'),
    get('obs'),
    get('var'),
    get('raw'),
    ...MAPPINGS.map(get),
  ]);
  const init: Record<string, unknown> = {};
  if (X !== undefined && X !== null) init.X = expect(isMatrix, X, g, 'X', 'a dense or sparse matrix');
  if (obs !== undefined) init.obs = expect(isFrame, obs, g, 'obs', 'a dataframe');
  if (vr !== undefined) init.var = expect(isFrame, vr, g, 'var', 'a dataframe');
  MAPPINGS.forEach((k, i) => {
    if (maps[i] !== undefined && maps[i] !== null) init[k] = expect(isRecord, maps[i], g, k, 'a dict');
  });
  if (raw !== undefined) init.raw = expect(isRaw, raw, g, 'raw', 'a raw group or null');
  else if (await ctx.has(g, 'raw.X')) {
    // legacy: raw stored as root keys
    const [rx, rv, rm] = await Promise.all([get('raw.X'), get('raw.var'), get('raw.varm')]);
    init.raw = {
      X: expect(isMatrix, rx, g, 'raw.X', 'a matrix'),
      var:
        rv === undefined
          ? new DataFrame({ nRows: (rx as Matrix).shape[1] })
          : expect(isFrame, rv, g, 'raw.var', 'a dataframe'),
      varm: rm === undefined ? {} : expect(isRecord, rm, g, 'raw.varm', 'a dict'),
    };
  }
  const adata = new AnnData(init as never);
  try {
    adata.validate();
  } catch (e) {
    const err = e as InvalidInputError;
    const key = g.path === '' ? (err.key ?? '') : `${g.path}/${err.key ?? ''}`;
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}': ${err.message}`, { key });
  }
  return adata;
}

async function readRaw(g: Group, ctx: ReadCtx): Promise<Raw> {
  const get = async (key: string) => ((await ctx.has(g, key)) ? ctx.readChild(g, key) : undefined);
  const [X, vr, varm] = await Promise.all([get('X'), get('var'), get('varm')]);
  const Xm = expect(isMatrix, X, g, 'X', 'a dense or sparse matrix');
  return {
    X: Xm,
    var: vr === undefined ? new DataFrame({ nRows: Xm.shape[1] }) : expect(isFrame, vr, g, 'var', 'a dataframe'),
    varm: varm === undefined ? {} : (expect(isRecord, varm, g, 'varm', 'a dict') as Record<string, AlignedElem>),
  };
}

registerReader('anndata', '0.1.0', { kind: 'group', read: (node, ctx) => readAnnDataGroup(node as Group, ctx) });
registerReader('raw', '0.1.0', { kind: 'group', read: (node, ctx) => readRaw(node as Group, ctx) });

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

registerWriter({
  accepts: (e) => e instanceof AnnData,
  spec: () => ANNDATA,
  write: async (parent, key, e, ctx) => {
    const a = e as AnnData;
    await writeAnnDataChildren(await createGroup(parent, key, encodingAttrs(ANNDATA), ctx), a, ctx);
  },
});

/** `raw` is written from a plain `{ X, var, varm }` object under the key 'raw'. */
registerWriter({
  accepts: (e) => isRecord(e) && 'X' in e && 'var' in e && (e as unknown as { var: unknown }).var instanceof DataFrame,
  spec: () => RAW,
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
