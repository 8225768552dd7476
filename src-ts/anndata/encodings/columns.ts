// Column encodings: categorical, nullable-integer, nullable-boolean, nullable-string-array.
// Used inside dataframes and standalone (e.g. a categorical in uns). Plain 1-D columns are the
// `array` / `string-array` encodings (./dense.ts).

import type { ZArray } from '../../zarr/array.js';
import type { NumericTypedArray } from '../../zarr/dtype.js';
import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import type { CategoricalColumn, CodesArray, Column } from '../dataframe.js';
import { columnLength, isColumn } from '../dataframe.js';
import type { Dense, DenseArray } from '../elems.js';
import {
  type ElemDesc,
  type ElemSelection,
  elemPath,
  encodingAttrs,
  part,
  type ReadCtx,
  register,
  type WriteCtx,
} from '../registry.js';
import { denseToColumn, readDense, writeArray, writePlainColumn } from './dense.js';

/** Whatever a column node read as (dense array or column) as a column. */
export function asColumn(x: unknown, path: string): Column {
  if (isColumn(x)) return x;
  if (typeof x === 'object' && x !== null && 'dtype' in x && 'data' in x && 'shape' in x) {
    return denseToColumn(x as DenseArray, path);
  }
  throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}' is not a dataframe column`, { key: path });
}

function bad(path: string, msg: string): never {
  throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(path)}': ${msg}`, { key: path });
}

/** Check codes against the number of categories (-1 = missing). */
export function checkCodes(codes: CodesArray, nCategories: number, onBad: (m: string) => never): void {
  for (let i = 0; i < codes.length; i++) {
    const k = Number(codes[i]);
    if (k < -1 || k >= nCategories) onBad(`categorical code ${k} at row ${i} is outside [-1, ${nCategories})`);
  }
}

/** Codes must be a 1-D signed integer array (checked from metadata). */
export function checkCodesArray(codes: ZArray, path: string): void {
  if (!['int8', 'int16', 'int32', 'int64'].includes(codes.dtype) || codes.shape.length !== 1) {
    bad(path, `codes must be a 1-D signed integer array, not ${codes.dtype} [${codes.shape}]`);
  }
}

/**
 * A categorical from its codes (selected rows) and categories (all): categories must be a
 * plain array and every code in range.
 */
export async function readCategorical(
  desc: ElemDesc,
  categoriesOf: () => Promise<unknown>,
  ordered: boolean,
  ctx: ReadCtx,
  sel?: ElemSelection,
): Promise<CategoricalColumn> {
  const [codes, catsRaw] = await Promise.all([readDense(part(desc, 'codes'), ctx, sel), categoriesOf()]);
  const categories = asColumn(catsRaw, `${desc.path}/categories`);
  if (categories.kind !== 'string' && categories.kind !== 'numeric' && categories.kind !== 'bool') {
    bad(desc.path, `categories must be a plain array, not ${categories.kind}`);
  }
  checkCodes(codes.data as CodesArray, columnLength(categories), (m) => bad(desc.path, m));
  return { kind: 'categorical', codes: codes.data as CodesArray, categories, ordered };
}

register({
  type: 'categorical',
  version: '0.2.0',
  node: 'group',
  describe: async (node, ctx) => {
    const g = node as Group;
    const [codes, categories] = await Promise.all([ctx.array(g, 'codes'), ctx.describeChild(g, 'categories')]);
    checkCodesArray(codes, g.path);
    return { kind: 'column', shape: codes.shape, dtype: categories.dtype, arrays: { codes }, children: { categories } };
  },
  materialize: (desc, ctx, sel) =>
    readCategorical(
      desc,
      () => ctx.once(desc.children.categories, () => ctx.materialize(desc.children.categories)),
      desc.attrs.ordered === true,
      ctx,
      sel,
    ),
  members: () => ['codes', 'categories'],
  accepts: (e) => isColumn(e) && e.kind === 'categorical',
  write: async (parent, key, e, ctx) => {
    const c = e as CategoricalColumn;
    const g = await parent.createGroup(key, {
      zarrFormat: ctx.opts.zarrFormat,
      attributes: { ...encodingAttrs({ encodingType: 'categorical', encodingVersion: '0.2.0' }), ordered: c.ordered },
      overwrite: true,
      signal: ctx.opts.signal,
    });
    await Promise.all([
      writeArray(g, 'codes', { data: c.codes, shape: [c.codes.length] }, ARRAY_ATTRS, ctx, 'column'),
      writePlainColumn(g, 'categories', c.categories, ctx),
    ]);
  },
});

type MaskedKind = 'nullable-integer' | 'nullable-boolean' | 'nullable-string';
const ARRAY_ATTRS = encodingAttrs({ encodingType: 'array', encodingVersion: '0.2.0' });
const STRING_ARRAY_ATTRS = encodingAttrs({ encodingType: 'string-array', encodingVersion: '0.2.0' });

/** values + mask, both checked from metadata: mask bool and as long as values. */
function masked(kind: MaskedKind, type: string) {
  const values: Record<MaskedKind, [(dtype: string) => boolean, string]> = {
    'nullable-integer': [(d) => /^u?int/.test(d), 'integers'],
    'nullable-boolean': [(d) => d === 'bool', 'bool'],
    'nullable-string': [(d) => d === 'string', 'strings'],
  };
  const [valuesOk, valuesAre] = values[kind];
  register({
    type,
    version: '0.1.0',
    node: 'group',
    describe: async (node, ctx) => {
      const g = node as Group;
      const [values, mask] = await Promise.all([ctx.array(g, 'values'), ctx.array(g, 'mask')]);
      if (mask.dtype !== 'bool' || mask.shape.length !== 1 || mask.shape[0] !== values.shape[0]) {
        bad(g.path, `mask must be a bool array as long as values`);
      }
      if (!valuesOk(values.dtype)) bad(g.path, `values must be ${valuesAre}, not ${values.dtype}`);
      return { kind: 'column', shape: values.shape, dtype: values.dtype, arrays: { values, mask } };
    },
    materialize: async (desc, ctx, sel): Promise<Column> => {
      const [values, mask] = await Promise.all([
        readDense(part(desc, 'values'), ctx, sel),
        readDense(part(desc, 'mask'), ctx, sel),
      ]);
      const m = mask.data as Uint8Array;
      if (kind === 'nullable-string') {
        const naValue = desc.attrs['na-value'] === 'NaN' ? 'NaN' : 'NA';
        return { kind, values: values.data as string[], mask: m, naValue };
      }
      if (kind === 'nullable-boolean') return { kind, values: values.data as Uint8Array, mask: m };
      return { kind, dtype: values.dtype as never, values: values.data as NumericTypedArray, mask: m };
    },
    members: () => ['values', 'mask'],
    accepts: (e) => isColumn(e) && e.kind === kind,
    write: (parent, key, e, ctx) => writeMasked(parent, key, e as Column & { kind: MaskedKind }, type, ctx),
  });
}
masked('nullable-integer', 'nullable-integer');
masked('nullable-boolean', 'nullable-boolean');
masked('nullable-string', 'nullable-string-array');

async function writeMasked(
  parent: Group,
  key: string,
  c: Column & { kind: MaskedKind },
  type: string,
  ctx: WriteCtx,
): Promise<void> {
  const extra = c.kind === 'nullable-string' ? { 'na-value': c.naValue } : {};
  const g = await parent.createGroup(key, {
    zarrFormat: ctx.opts.zarrFormat,
    attributes: { ...encodingAttrs({ encodingType: type, encodingVersion: '0.1.0' }), ...extra },
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
    writeArray(g, 'values', values, values.dtype === 'string' ? STRING_ARRAY_ATTRS : ARRAY_ATTRS, ctx, 'column'),
    writeArray(g, 'mask', { dtype: 'bool', data: c.mask, shape: [c.mask.length] }, ARRAY_ATTRS, ctx, 'column'),
  ]);
}
