// 0-d elements: numeric-scalar (kept with its dtype as a NumericScalar), string, and null
// (a 0-d bool array with no chunk written).

import type { ZArray } from '../../zarr/array.js';
import type { DataType } from '../../zarr/dtype.js';
import { InvalidMetadataError } from '../../zarr/errors.js';
import { isNumericDType, type NumericDType, NumericScalar } from '../elems.js';
import { elemPath, encodingAttrs, type Node, registerReader, registerWriter, type WriteCtx } from '../registry.js';

async function read0d(node: Node, signal?: AbortSignal): Promise<{ dtype: DataType; value: unknown }> {
  const a = node as ZArray;
  const c = await a.get(null, { signal });
  if (c.data.length !== 1) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(a)}' should hold one value, has shape [${c.shape}]`,
      {
        key: a.path,
      },
    );
  }
  return { dtype: a.dtype, value: (c.data as ArrayLike<unknown>)[0] };
}

registerReader('numeric-scalar', '0.2.0', {
  kind: 'array',
  read: async (node, ctx) => {
    const { dtype, value } = await read0d(node, ctx.opts.signal);
    if (!isNumericDType(dtype)) {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(node)}' is a numeric scalar holding a ${dtype}`, {
        key: node.path,
      });
    }
    return new NumericScalar(dtype, dtype === 'bool' ? value === 1 : (value as number | bigint));
  },
});

registerReader('string', '0.2.0', {
  kind: 'array',
  read: async (node, ctx) => {
    const { value } = await read0d(node, ctx.opts.signal);
    return String(value);
  },
});

registerReader('null', '0.1.0', { kind: 'array', read: async () => null });

/** Create a 0-d array holding `value` (or nothing, for null). */
async function write0d(
  parent: import('../../zarr/group.js').Group,
  key: string,
  dtype: DataType,
  value: number | bigint | boolean | string | null,
  spec: { encodingType: string; encodingVersion: string },
  ctx: WriteCtx,
): Promise<void> {
  const arr = await parent.createArray(key, {
    shape: [],
    dtype,
    chunks: [],
    attributes: encodingAttrs(spec),
    zarrFormat: ctx.opts.zarrFormat,
    overwrite: true,
    ...(ctx.opts.compressor === undefined ? {} : { compressors: ctx.opts.compressor }),
    signal: ctx.opts.signal,
  });
  if (value !== null) await arr.set(null, value, { signal: ctx.opts.signal });
}

const NUMERIC = { encodingType: 'numeric-scalar', encodingVersion: '0.2.0' };
const STRING = { encodingType: 'string', encodingVersion: '0.2.0' };
const NULL = { encodingType: 'null', encodingVersion: '0.1.0' };

/** JS numbers: safe integers are written as int64 (python `int`), others as float64. */
function numberDType(v: number): NumericDType {
  return Number.isSafeInteger(v) && !Object.is(v, -0) ? 'int64' : 'float64';
}

registerWriter({
  accepts: (e) => e instanceof NumericScalar || ['number', 'bigint', 'boolean'].includes(typeof e),
  spec: () => NUMERIC,
  write: async (parent, key, e, ctx) => {
    if (e instanceof NumericScalar) return write0d(parent, key, e.dtype, e.value, NUMERIC, ctx);
    if (typeof e === 'boolean') return write0d(parent, key, 'bool', e, NUMERIC, ctx);
    if (typeof e === 'bigint') return write0d(parent, key, 'int64', e, NUMERIC, ctx);
    const v = e as number;
    const dtype = numberDType(v);
    return write0d(parent, key, dtype, dtype === 'int64' ? BigInt(v) : v, NUMERIC, ctx);
  },
});

registerWriter({
  accepts: (e) => typeof e === 'string',
  spec: () => STRING,
  write: (parent, key, e, ctx) => write0d(parent, key, 'string', e as string, STRING, ctx),
});

registerWriter({
  accepts: (e) => e === null,
  spec: () => NULL,
  write: (parent, key, _e, ctx) => write0d(parent, key, 'bool', null, NULL, ctx),
});
