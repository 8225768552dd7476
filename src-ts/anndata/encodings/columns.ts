// Column encodings: categorical, nullable-integer, nullable-boolean, nullable-string-array, and
// 1-D arrays as plain columns. Used inside dataframes and standalone (e.g. a categorical in uns).

import type { NumericTypedArray } from '../../zarr/dtype.js';
import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import type { CategoricalColumn, CodesArray, Column } from '../dataframe.js';
import { columnLength, isColumn } from '../dataframe.js';
import { type Dense, type DenseArray, type IOSpec, isNumericDType } from '../elems.js';
import {
  elemPath,
  encodingAttrs,
  joinPath,
  type Node,
  type ReadCtx,
  registerReader,
  registerWriter,
  type WriteCtx,
} from '../registry.js';
import { readDense, writeArray } from './dense.js';

/** A 1-D dense array (as read by the array readers) as a column. */
export function denseToColumn(d: DenseArray, path: string): Column {
  if (d.shape.length !== 1) {
    throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' is a column but has shape [${d.shape}]`, {
      key: path,
    });
  }
  if (d.dtype === 'string') return { kind: 'string', data: d.data as string[] };
  if (d.dtype === 'bool') return { kind: 'bool', data: d.data as Uint8Array };
  if (!isNumericDType(d.dtype)) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(path)}' is a column of unsupported dtype ${d.dtype}`,
      {
        key: path,
      },
    );
  }
  return { kind: 'numeric', dtype: d.dtype, data: d.data as NumericTypedArray };
}

/** Whatever a column node read as (dense array or column) as a column. */
export function asColumn(x: unknown, path: string): Column {
  if (isColumn(x)) return x;
  if (typeof x === 'object' && x !== null && 'dtype' in x && 'data' in x && 'shape' in x) {
    return denseToColumn(x as DenseArray, path);
  }
  throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' is not a dataframe column`, { key: path });
}

function columnToDense(c: Column): Dense {
  switch (c.kind) {
    case 'numeric':
      return { dtype: c.dtype, data: c.data, shape: [c.data.length] };
    case 'bool':
      return { dtype: 'bool', data: c.data, shape: [c.data.length] };
    case 'string':
      return { dtype: 'string', data: c.data, shape: [c.data.length] };
    default:
      throw new Error(`not a plain column: ${c.kind}`);
  }
}

export function columnSpec(c: Column): IOSpec {
  switch (c.kind) {
    case 'numeric':
    case 'bool':
      return { encodingType: 'array', encodingVersion: '0.2.0' };
    case 'string':
      return { encodingType: 'string-array', encodingVersion: '0.2.0' };
    case 'categorical':
      return { encodingType: 'categorical', encodingVersion: '0.2.0' };
    case 'nullable-string':
      return { encodingType: 'nullable-string-array', encodingVersion: '0.1.0' };
    default:
      return { encodingType: c.kind, encodingVersion: '0.1.0' };
  }
}

async function child(g: Group, name: string, ctx: ReadCtx): Promise<DenseArray> {
  return readDense(await ctx.child(g, name), ctx.opts.signal);
}

function bad(g: Node, msg: string): never {
  throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}': ${msg}`, { key: g.path });
}

/** Check codes against the number of categories (-1 = missing). */
export function checkCodes(codes: CodesArray, nCategories: number, onBad: (m: string) => never): void {
  for (let i = 0; i < codes.length; i++) {
    const k = Number(codes[i]);
    if (k < -1 || k >= nCategories) onBad(`categorical code ${k} at row ${i} is outside [-1, ${nCategories})`);
  }
}

registerReader('categorical', '0.2.0', {
  kind: 'group',
  read: async (node, ctx) => {
    const g = node as Group;
    const [codes, catsRaw] = await Promise.all([child(g, 'codes', ctx), ctx.readChild(g, 'categories')]);
    const categories = asColumn(catsRaw, joinPath(g.path, 'categories'));
    if (!['int8', 'int16', 'int32', 'int64'].includes(codes.dtype) || codes.shape.length !== 1) {
      bad(g, `codes must be a 1-D signed integer array, not ${codes.dtype} [${codes.shape}]`);
    }
    if (categories.kind !== 'string' && categories.kind !== 'numeric' && categories.kind !== 'bool') {
      bad(g, `categories must be a plain array, not ${categories.kind}`);
    }
    checkCodes(codes.data as CodesArray, columnLength(categories), (m) => bad(g, m));
    return {
      kind: 'categorical',
      codes: codes.data as CodesArray,
      categories,
      ordered: g.attrs.ordered === true,
    } satisfies CategoricalColumn;
  },
});

function readMasked(kind: 'nullable-integer' | 'nullable-boolean' | 'nullable-string') {
  return async (node: Node, ctx: ReadCtx): Promise<Column> => {
    const g = node as Group;
    const [values, mask] = await Promise.all([child(g, 'values', ctx), child(g, 'mask', ctx)]);
    if (mask.dtype !== 'bool' || mask.data.length !== values.data.length) {
      bad(g, `mask must be a bool array as long as values`);
    }
    const m = mask.data as Uint8Array;
    if (kind === 'nullable-string') {
      if (values.dtype !== 'string') bad(g, `values must be strings, not ${values.dtype}`);
      const na = g.attrs['na-value'];
      return { kind, values: values.data as string[], mask: m, naValue: na === 'NaN' ? 'NaN' : 'NA' };
    }
    if (kind === 'nullable-boolean') {
      if (values.dtype !== 'bool') bad(g, `values must be bool, not ${values.dtype}`);
      return { kind, values: values.data as Uint8Array, mask: m };
    }
    if (!/^u?int/.test(values.dtype)) bad(g, `values must be integers, not ${values.dtype}`);
    return { kind, dtype: values.dtype as never, values: values.data as NumericTypedArray, mask: m };
  };
}
registerReader('nullable-integer', '0.1.0', { kind: 'group', read: readMasked('nullable-integer') });
registerReader('nullable-boolean', '0.1.0', { kind: 'group', read: readMasked('nullable-boolean') });
registerReader('nullable-string-array', '0.1.0', { kind: 'group', read: readMasked('nullable-string') });

const ARRAY = encodingAttrs({ encodingType: 'array', encodingVersion: '0.2.0' });
const STRING_ARRAY = encodingAttrs({ encodingType: 'string-array', encodingVersion: '0.2.0' });

/** Write a column as child `key` of `parent` (arrays use the 1-D column layout). */
export async function writeColumn(parent: Group, key: string, c: Column, ctx: WriteCtx): Promise<void> {
  const _path = joinPath(parent.path, key);
  const spec = columnSpec(c);
  const attrs = encodingAttrs(spec);
  switch (c.kind) {
    case 'numeric':
    case 'bool':
    case 'string':
      await writeArray(parent, key, columnToDense(c), attrs, ctx, 'column');
      return;
    case 'categorical': {
      const g = await parent.createGroup(key, {
        zarrFormat: ctx.opts.zarrFormat,
        attributes: { ...attrs, ordered: c.ordered },
        overwrite: true,
        signal: ctx.opts.signal,
      });
      await Promise.all([
        writeArray(g, 'codes', { data: c.codes, shape: [c.codes.length] }, ARRAY, ctx, 'column'),
        writeColumn(g, 'categories', c.categories, ctx),
      ]);
      return;
    }
    default: {
      const extra = c.kind === 'nullable-string' ? { 'na-value': c.naValue } : {};
      const g = await parent.createGroup(key, {
        zarrFormat: ctx.opts.zarrFormat,
        attributes: { ...attrs, ...extra },
        overwrite: true,
        signal: ctx.opts.signal,
      });
      const values: Dense =
        c.kind === 'nullable-string'
          ? { dtype: 'string', data: c.values, shape: [c.values.length] }
          : c.kind === 'nullable-boolean'
            ? { dtype: 'bool', data: c.values, shape: [c.values.length] }
            : { dtype: c.dtype, data: c.values, shape: [c.values.length] };
      await Promise.all([
        // python writes its children as elements, with their own encoding attributes
        writeArray(g, 'values', values, values.dtype === 'string' ? STRING_ARRAY : ARRAY, ctx, 'column'),
        writeArray(g, 'mask', { dtype: 'bool', data: c.mask, shape: [c.mask.length] }, ARRAY, ctx, 'column'),
      ]);
    }
  }
}

registerWriter({
  accepts: isColumn,
  spec: (e) => columnSpec(e as Column),
  write: (parent, key, e, ctx) => writeColumn(parent, key, e as Column, ctx),
});
