// 0-d elements: numeric-scalar (kept with its dtype as a NumericScalar), string, and null
// (a 0-d bool array with no chunk written).

import type { ZArray } from '../../zarr/array.js';
import { type DataType, isNumericDType } from '../../zarr/dtype.js';
import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { type NumericDType, NumericScalar } from '../elems.js';
import {
  type ElemDesc,
  type ElemSelection,
  type Encoding,
  elemPath,
  encodingAttrs,
  type Node,
  noSelection,
  part,
  type ReadCtx,
  register,
  registerLegacy,
  type WriteCtx,
} from '../registry.js';

/** A 0-d array (checked from metadata). */
async function describe0d(node: Node) {
  const a = node as ZArray;
  if (a.shape.reduce((x, y) => x * y, 1) !== 1) {
    throw new InvalidMetadataError(
      'InvalidMetadata',
      `'${elemPath(a)}' should hold one value, has shape [${a.shape}]`,
      {
        key: a.path,
      },
    );
  }
  return { kind: 'scalar' as const, shape: [], dtype: a.dtype, arrays: { self: a } };
}

async function read0d(desc: ElemDesc, ctx: ReadCtx, sel?: ElemSelection): Promise<unknown> {
  noSelection(desc, sel);
  const c = await part(desc, 'self').get(null, ctx.opts);
  return (c.data as ArrayLike<unknown>)[0];
}

/** Create a 0-d array holding `value` (or nothing, for null). */
async function write0d(
  parent: Group,
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

const NUMERIC_SCALAR: Encoding = {
  type: 'numeric-scalar',
  version: '0.2.0',
  node: 'array',
  describe: async (node) => {
    const d = await describe0d(node);
    if (!isNumericDType(d.dtype)) {
      throw new InvalidMetadataError(
        'InvalidMetadata',
        `'${elemPath(node)}' is a numeric scalar holding a ${d.dtype}`,
        {
          key: node.path,
        },
      );
    }
    return d;
  },
  materialize: async (desc, ctx, sel) => {
    const value = await read0d(desc, ctx, sel);
    const dtype = desc.dtype as NumericDType;
    return new NumericScalar(dtype, dtype === 'bool' ? value === 1 : (value as number | bigint));
  },
  accepts: (e) => e instanceof NumericScalar || ['number', 'bigint', 'boolean'].includes(typeof e),
  write: async (parent, key, e, ctx) => {
    if (e instanceof NumericScalar) return write0d(parent, key, e.dtype, e.value, NUMERIC, ctx);
    if (typeof e === 'boolean') return write0d(parent, key, 'bool', e, NUMERIC, ctx);
    if (typeof e === 'bigint') return write0d(parent, key, 'int64', e, NUMERIC, ctx);
    const v = e as number;
    const dtype = numberDType(v);
    return write0d(parent, key, dtype, dtype === 'int64' ? BigInt(v) : v, NUMERIC, ctx);
  },
};

const STRING_SCALAR: Encoding = {
  type: 'string',
  version: '0.2.0',
  node: 'array',
  describe: describe0d,
  materialize: async (desc, ctx, sel) => String(await read0d(desc, ctx, sel)),
  accepts: (e) => typeof e === 'string',
  write: (parent, key, e, ctx) => write0d(parent, key, 'string', e as string, STRING, ctx),
};

register(NUMERIC_SCALAR);
register(STRING_SCALAR);
registerLegacy('numericScalar', NUMERIC_SCALAR);
registerLegacy('string', STRING_SCALAR);

register({
  type: 'null',
  version: '0.1.0',
  node: 'array',
  describe: async () => ({ kind: 'null' }),
  materialize: async (desc, _ctx, sel) => {
    noSelection(desc, sel);
    return null;
  },
  accepts: (e) => e === null,
  write: (parent, key, _e, ctx) => write0d(parent, key, 'bool', null, NULL, ctx),
});
