// dataframe 0.2.0 (and the legacy 0.1.0 read): a group whose `_index` attribute names the index
// child and whose `column-order` attribute orders the columns.

import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type CategoricalColumn, type CodesArray, type Column, columnLength, DataFrame } from '../dataframe.js';
import { elemPath, encodingAttrs, joinPath, type ReadCtx, registerReader, registerWriter } from '../registry.js';
import { asColumn, checkCodes, denseToColumn } from './columns.js';
import { readDense } from './dense.js';

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

async function readDataFrame(g: Group, ctx: ReadCtx, legacy: boolean): Promise<DataFrame> {
  const indexKey = g.attrs._index;
  if (typeof indexKey !== 'string') {
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}' is a dataframe without an '_index' attribute`, {
      key: g.path,
    });
  }
  const order = stringList(g, 'column-order');
  const readCol = async (name: string): Promise<Column> => {
    const path = joinPath(g.path, name);
    const node = await ctx.child(g, name);
    if (legacy && !('members' in node) && typeof node.attrs.categories === 'string') {
      return readLegacyCategorical(g, name, node.attrs.categories, ctx);
    }
    return asColumn(await ctx.read(node), path);
  };
  const [index, ...cols] = await Promise.all([readCol(indexKey), ...order.map(readCol)]);
  const n = columnLength(index);
  cols.forEach((c, i) => {
    if (columnLength(c) !== n) {
      throw new InvalidMetadataError(
        'InvalidMetadata',
        `'${elemPath(joinPath(g.path, order[i]))}' has ${columnLength(c)} rows, the index has ${n}`,
        { key: joinPath(g.path, order[i]) },
      );
    }
  });
  return new DataFrame({
    index,
    indexName: indexKey === '_index' ? null : indexKey,
    columns: order.map((name, i): [string, Column] => [name, cols[i]]),
  });
}

/** dataframe 0.1.0: a categorical column is its codes array with a `categories` attribute
 * naming the categories array (under `__categories/`). */
async function readLegacyCategorical(g: Group, name: string, ref: string, ctx: ReadCtx): Promise<Column> {
  const rel = ref.split('/').filter((s) => s !== '' && s !== '.');
  const catPath = rel.length > 1 ? rel : ['__categories', name];
  let parent: Group = g;
  for (const seg of catPath.slice(0, -1)) parent = (await ctx.child(parent, seg)) as Group;
  const [codes, cats] = await Promise.all([
    readDense(await ctx.child(g, name), ctx.opts.signal),
    readDense(await ctx.child(parent, catPath[catPath.length - 1]), ctx.opts.signal),
  ]);
  const categories = denseToColumn(cats, joinPath(g.path, catPath.join('/'))) as CategoricalColumn['categories'];
  const path = joinPath(g.path, name);
  checkCodes(codes.data as CodesArray, cats.data.length, (m) => {
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}': ${m}`, { key: path });
  });
  return { kind: 'categorical', codes: codes.data as CodesArray, categories, ordered: false };
}

registerReader('dataframe', '0.2.0', { kind: 'group', read: (node, ctx) => readDataFrame(node as Group, ctx, false) });
registerReader('dataframe', '0.1.0', { kind: 'group', read: (node, ctx) => readDataFrame(node as Group, ctx, true) });

registerWriter({
  accepts: (e) => e instanceof DataFrame,
  spec: () => SPEC,
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
