// dataframe 0.2.0 (and the legacy 0.1.0 read): a group whose `_index` attribute names the index
// child and whose `column-order` attribute orders the columns. Rows can be selected: every
// column (and the index) is read with the same row selection.

import type { ZArray } from '../../zarr/array.js';
import { InvalidMetadataError, zarrsError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type Column, columnLength, DataFrame } from '../dataframe.js';
import {
  type ElemDesc,
  type ElemSelection,
  type Encoding,
  elemPath,
  encodingAttrs,
  joinPath,
  type Node,
  type ReadCtx,
  register,
} from '../registry.js';
import { asColumn, checkCodesArray, readCategorical } from './columns.js';
import { denseToColumn, readDense } from './dense.js';

const SPEC = { encodingType: 'dataframe', encodingVersion: '0.2.0' };

function stringList(g: Group, name: string): string[] {
  const v = g.attrs[name];
  if (v === undefined) return [];
  // a single column is sometimes stored as a bare string
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(g)}': attribute '${name}' must be a list of strings`,
      {
        key: g.path,
      },
    );
  }
  return v;
}

function describeDataFrame(legacy: boolean) {
  return async (node: Node, ctx: ReadCtx) => {
    const g = node as Group;
    const indexKey = g.attrs._index;
    if (typeof indexKey !== 'string') {
      throw new InvalidMetadataError(
        'InvalidMetadata',
        `'${elemPath(g)}' is a dataframe without an '_index' attribute`,
        {
          key: g.path,
        },
      );
    }
    const order = stringList(g, 'column-order');
    const names = [indexKey, ...order.filter((n) => n !== indexKey)];
    const descs = await Promise.all(names.map((n) => describeColumn(g, n, legacy, ctx)));
    const index = descs[0];
    return {
      kind: 'dataframe' as const,
      shape: index.shape === null ? null : [index.shape[0], order.length],
      children: Object.fromEntries(names.map((n, i) => [n, descs[i]])),
      extra: { indexKey, order },
    };
  };
}

/** A column's description; dataframe 0.1.0 stores categoricals as codes + `__categories/`. */
async function describeColumn(g: Group, name: string, legacy: boolean, ctx: ReadCtx): Promise<ElemDesc> {
  if (legacy && (await ctx.members(g)).get(name) === 'array') {
    const codes = await ctx.array(g, name);
    if (typeof codes.attrs.categories === 'string') return ctx.describeAs(LEGACY_CATEGORICAL, codes, g);
  }
  return ctx.describeChild(g, name);
}

/**
 * Where dataframe 0.1.0 keeps the categories of column `column`, relative to the dataframe: the
 * codes' `categories` attribute (a path; h5ad files hold an object reference instead, passed
 * as undefined), else the convention `__categories/<column>`.
 */
export function legacyCategoriesPath(categories: string | undefined, column: string): string[] {
  const rel = (categories ?? '').split('/').filter((s) => s !== '' && s !== '.');
  return rel.length > 1 ? rel : ['__categories', column];
}

/**
 * dataframe 0.1.0's categorical: the codes array, whose `categories` attribute names the
 * categories array (`__categories/<column>`, relative to the dataframe).
 */
const LEGACY_CATEGORICAL: Encoding = {
  type: 'categorical',
  version: 'dataframe-0.1.0',
  node: 'array',
  describe: async (node, ctx, df) => {
    const codes = node as ZArray;
    if (df === undefined)
      throw zarrsError('Internal', `'${elemPath(codes)}': a legacy categorical needs its dataframe`);
    const catPath = legacyCategoriesPath(
      String(codes.attrs.categories),
      codes.path.slice(codes.path.lastIndexOf('/') + 1),
    );
    checkCodesArray(codes, codes.path);
    let parent = df;
    for (const seg of catPath.slice(0, -1)) parent = await ctx.group(parent, seg);
    const categories = await ctx.array(parent, catPath[catPath.length - 1]);
    return { kind: 'column', shape: codes.shape, dtype: categories.dtype, arrays: { codes, categories } };
  },
  materialize: (desc, ctx, sel) => {
    const cats = desc.arrays.categories as ZArray;
    const categories = async () => denseToColumn(await readDense(cats, ctx), cats.path);
    // 0.1.0 keeps `ordered` on the categories array
    return readCategorical(desc, categories, cats.attrs.ordered === true, ctx, sel);
  },
};

/** The index and the columns `column-order` names (0.1.0: and its `__categories` group). */
function dataFrameMembers(attrs: Readonly<Record<string, unknown>>, legacy: boolean): string[] {
  const order = attrs['column-order'];
  const names = typeof order === 'string' ? [order] : Array.isArray(order) ? order.map(String) : [];
  const index = typeof attrs._index === 'string' ? [attrs._index] : [];
  return [...index, ...names, ...(legacy ? ['__categories'] : [])];
}

async function materializeDataFrame(desc: ElemDesc, ctx: ReadCtx, sel?: ElemSelection): Promise<DataFrame> {
  const { indexKey, order } = desc.extra as { indexKey: string; order: string[] };
  const rows = sel === undefined ? undefined : sel.slice(0, 1);
  const names = [indexKey, ...order];
  const cols = await Promise.all(
    names.map(async (n) => asColumn(await ctx.materialize(desc.children[n], rows), joinPath(desc.path, n))),
  );
  const [index, ...rest] = cols;
  const n = columnLength(index);
  rest.forEach((c, i) => {
    if (columnLength(c) !== n) {
      const key = joinPath(desc.path, order[i]);
      throw new InvalidMetadataError(
        'InvalidMetadata',
        `'${elemPath(key)}' has ${columnLength(c)} rows, the index has ${n}`,
        { key },
      );
    }
  });
  return new DataFrame({
    index,
    indexName: indexKey === '_index' ? null : indexKey,
    columns: order.map((name, i): [string, Column] => [name, rest[i]]),
  });
}

register({
  type: 'dataframe',
  version: '0.2.0',
  node: 'group',
  describe: describeDataFrame(false),
  materialize: materializeDataFrame,
  members: (attrs) => dataFrameMembers(attrs, false),
  accepts: (e) => e instanceof DataFrame,
  write: async (parent, key, e, ctx) => {
    const df = e as DataFrame;
    const indexKey = df.indexName ?? '_index';
    const g = await parent.createGroup(key, {
      zarrFormat: ctx.opts.zarrFormat,
      attributes: { ...encodingAttrs(SPEC), _index: indexKey, 'column-order': df.columns },
      overwrite: true,
      signal: ctx.opts.signal,
    });
    await Promise.all([
      ctx.write(g, indexKey, df.index),
      ...df.columns.map((name) => ctx.write(g, name, df.get(name))),
    ]);
  },
});
register({
  type: 'dataframe',
  version: '0.1.0',
  node: 'group',
  describe: describeDataFrame(true),
  materialize: materializeDataFrame,
  members: (attrs) => dataFrameMembers(attrs, true),
});
