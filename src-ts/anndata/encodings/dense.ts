// Dense arrays: `array` (numbers, bools) and `string-array`, also as plain dataframe columns;
// the selection-aware array read and the array writer every other encoding uses for its parts.

import type { ZArray } from '../../zarr/array.js';
import { type DataType, inferDType, isNumericDType, type NumericTypedArray } from '../../zarr/dtype.js';
import { InvalidInputError, InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import type { BasicSelection, Slice } from '../../zarr/selection.js';
import { type Column, isColumn } from '../dataframe.js';
import { type Dense, type DenseArray, isDense, numel } from '../elems.js';
import { type ArrayRole, arrayCompressors, layoutFor } from '../layout.js';
import type { DatasetOptions } from '../options.js';
import {
  type ElemDesc,
  type ElemSelection,
  elemPath,
  encodingAttrs,
  joinPath,
  namingElem,
  part,
  type ReadCtx,
  register,
  registerLegacy,
  type WriteCtx,
} from '../registry.js';

const isBasic = (s: unknown): s is Slice | null =>
  s === null || s === undefined || (typeof s === 'object' && (s as Slice).kind === 'slice');

/** Read an array, or `sel` of it along its leading axes, with its dtype. Errors name the array. */
export async function readDense(a: ZArray, ctx: ReadCtx, sel?: ElemSelection): Promise<DenseArray> {
  try {
    const c =
      sel === undefined || sel.every(isBasic)
        ? await a.get((sel ?? null) as BasicSelection, ctx.opts)
        : await a.getOrthogonal(sel, ctx.opts);
    return { dtype: a.dtype, data: c.data, shape: c.shape };
  } catch (e) {
    throw namingElem(e, a.path);
  }
}

/** A 1-D dense array as a plain column. */
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

/** A plain column (numeric, bool, string) as the 1-D array it is stored as. */
function columnToDense(c: Column, path: string): Dense {
  switch (c.kind) {
    case 'numeric':
      return { dtype: c.dtype, data: c.data, shape: [c.data.length] };
    case 'bool':
      return { dtype: 'bool', data: c.data, shape: [c.data.length] };
    case 'string':
      return { dtype: 'string', data: c.data, shape: [c.data.length] };
    default:
      throw new InvalidInputError('InvalidInput', `'${elemPath(path)}': a ${c.kind} column is not a plain array`, {
        key: path,
      });
  }
}

/**
 * Create child `key` of `parent` holding `dense` (one create and one write call), with the
 * layout of `role` unless the dataset options say otherwise.
 */
export async function writeArray(
  parent: Group,
  key: string,
  dense: Dense,
  attrs: Record<string, unknown>,
  ctx: WriteCtx,
  role: ArrayRole,
  ds: DatasetOptions = {},
): Promise<ZArray> {
  const path = joinPath(parent.path, key);
  const dtype: DataType = dense.dtype ?? inferDType(dense.data, path);
  const n = numel(dense.shape);
  if (!dense.shape.every((s) => Number.isSafeInteger(s) && s >= 0) || n !== dense.data.length) {
    throw new InvalidInputError(
      'InvalidInput',
      `'${elemPath(path)}': shape [${dense.shape.join(', ')}] does not match ${dense.data.length} values`,
      { key: path },
    );
  }
  const layout = layoutFor(role, dense.shape, dtype, ctx.opts, ds);
  const compressors = arrayCompressors(dtype, ctx.opts, ds);
  const arr = await parent.createArray(key, {
    shape: dense.shape,
    dtype,
    chunks: layout.chunks,
    shards: layout.shards,
    compressors,
    attributes: attrs,
    zarrFormat: ctx.opts.zarrFormat,
    overwrite: true,
    signal: ctx.opts.signal,
  });
  if (n > 0) await arr.set(null, dense.data as never, { signal: ctx.opts.signal });
  return arr;
}

/** An `array` / `string-array` node: its own only part. */
async function describeDense(node: ZArray | Group) {
  const a = node as ZArray;
  return { kind: 'dense' as const, shape: a.shape, dtype: a.dtype, arrays: { self: a } };
}

function materializeDense(desc: ElemDesc, ctx: ReadCtx, sel?: ElemSelection): Promise<DenseArray> {
  return readDense(part(desc, 'self'), ctx, sel);
}

/** Write a plain column (numeric, bool, string) as child `key`: a 1-D array element. */
export function writePlainColumn(parent: Group, key: string, c: Column, ctx: WriteCtx): Promise<void> {
  return writeDenseOrColumn(c.kind === 'string')(parent, key, c, ctx, {});
}

const isStringDense = (e: Dense) => (e.dtype ?? inferDType(e.data, '')) === 'string';

/** Write a dense array, or a plain column as a 1-D array in the column layout. */
function writeDenseOrColumn(string: boolean) {
  const attrs = encodingAttrs({ encodingType: string ? 'string-array' : 'array', encodingVersion: '0.2.0' });
  return async (parent: Group, key: string, e: unknown, ctx: WriteCtx, ds: DatasetOptions) => {
    if (isColumn(e)) await writeArray(parent, key, columnToDense(e, joinPath(parent.path, key)), attrs, ctx, 'column');
    else await writeArray(parent, key, e as Dense, attrs, ctx, 'dense', ds);
  };
}

const ARRAY = {
  type: 'array',
  version: '0.2.0',
  node: 'array' as const,
  describe: describeDense,
  materialize: materializeDense,
  accepts: (e: unknown) =>
    (isDense(e) && !isStringDense(e)) || (isColumn(e) && (e.kind === 'numeric' || e.kind === 'bool')),
  write: writeDenseOrColumn(false),
};
const STRING_ARRAY = {
  type: 'string-array',
  version: '0.2.0',
  node: 'array' as const,
  describe: describeDense,
  materialize: materializeDense,
  accepts: (e: unknown) => (isDense(e) && isStringDense(e)) || (isColumn(e) && e.kind === 'string'),
  write: writeDenseOrColumn(true),
};
register(ARRAY);
register(STRING_ARRAY);
registerLegacy('array', ARRAY);
registerLegacy('stringArray', STRING_ARRAY);
