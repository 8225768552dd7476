// Dense arrays: `array` (numbers, bools) and `string-array`, and the array writer every other
// encoding uses for its children.

import type { ZArray } from '../../zarr/array.js';
import { type DataType, inferDType } from '../../zarr/dtype.js';
import { InvalidInputError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type Dense, type DenseArray, isDense, numel } from '../elems.js';
import { defaultCompressor, type ElemKind, layoutFor } from '../layout.js';
import type { DatasetOptions } from '../options.js';
import {
  elemPath,
  encodingAttrs,
  joinPath,
  type Node,
  registerReader,
  registerWriter,
  type WriteCtx,
} from '../registry.js';

/** Read a whole array with its dtype. */
export async function readDense(node: Node, signal?: AbortSignal): Promise<DenseArray> {
  const a = node as ZArray;
  const c = await a.get(null, { signal });
  return { dtype: a.dtype, data: c.data, shape: c.shape };
}

/**
 * Create child `key` of `parent` holding `dense` (one create and one write call), with the
 * layout of `kind` unless the dataset options say otherwise.
 */
export async function writeArray(
  parent: Group,
  key: string,
  dense: Dense,
  attrs: Record<string, unknown>,
  ctx: WriteCtx,
  kind: ElemKind,
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
  const layout = layoutFor(kind, dense.shape, dtype, ctx.opts, ds);
  const compressors =
    ds.compressors !== undefined
      ? ds.compressors
      : ctx.opts.compressor !== undefined
        ? ctx.opts.compressor
        : defaultCompressor(dtype);
  const arr = await parent.createArray(key, {
    shape: dense.shape,
    dtype,
    chunks: layout.chunks,
    shards: layout.shards,
    ...(compressors === undefined ? {} : { compressors }),
    attributes: attrs,
    zarrFormat: ctx.opts.zarrFormat,
    overwrite: true,
    signal: ctx.opts.signal,
  });
  if (n > 0) await arr.set(null, dense.data as never, { signal: ctx.opts.signal });
  return arr;
}

registerReader('array', '0.2.0', { kind: 'array', read: (node, ctx) => readDense(node, ctx.opts.signal) });
registerReader('string-array', '0.2.0', { kind: 'array', read: (node, ctx) => readDense(node, ctx.opts.signal) });

function denseSpec(d: Dense, path = '') {
  const string = (d.dtype ?? inferDType(d.data, path)) === 'string';
  return { encodingType: string ? 'string-array' : 'array', encodingVersion: '0.2.0' };
}

registerWriter({
  accepts: isDense,
  spec: (e) => denseSpec(e as Dense),
  write: async (parent, key, e, ctx, ds) => {
    const d = e as Dense;
    await writeArray(parent, key, d, encodingAttrs(denseSpec(d, joinPath(parent.path, key))), ctx, 'dense', ds);
  },
});
