// rec-array 0.2.0: a numpy structured array (scanpy's `uns/rank_genes_groups/names`, `scores`,
// ...) stored as one array with a record dtype, read and written field by field in one call.

import type { ZArray } from '../../zarr/array.js';
import type { DataType } from '../../zarr/dtype.js';
import { InvalidInputError, InvalidMetadataError } from '../../zarr/errors.js';
import { numel, RecArray, type RecArrayField } from '../elems.js';
import { defaultCompressor, layoutFor } from '../layout.js';
import {
  type Encoding,
  elemPath,
  encodingAttrs,
  joinPath,
  namingElem,
  noSelection,
  part,
  register,
  registerLegacy,
} from '../registry.js';

const SPEC = { encodingType: 'rec-array', encodingVersion: '0.2.0' };

/** numpy spellings of the numeric types (little-endian, as numpy writes on x86 and ARM). */
const NUMPY: Partial<Record<DataType, string>> = {
  bool: '|b1',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
};

/** The numpy dtype a field is written with. */
function fieldNumpy(f: RecArrayField, path: string): string {
  if (f.numpyDtype !== undefined) return f.numpyDtype;
  if (f.dtype === 'string') {
    // numpy sizes a U field to its longest value (at least one code point)
    const longest = (f.data as string[]).reduce((m, s) => Math.max(m, [...s].length), 1);
    return `<U${longest}`;
  }
  const n = NUMPY[f.dtype];
  if (n === undefined) {
    throw new InvalidInputError(
      'InvalidInput',
      `'${elemPath(path)}': field '${f.name}' has dtype ${f.dtype}: give its numpyDtype (e.g. '<M8[ns]')`,
      { key: path },
    );
  }
  return n;
}

const REC_ARRAY: Encoding = {
  type: SPEC.encodingType,
  version: SPEC.encodingVersion,
  node: 'array',
  describe: async (node) => {
    const a = node as ZArray;
    if (a.dtype !== 'record') {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(a)}' is a rec-array but has dtype ${a.dtype}`, {
        key: a.path,
      });
    }
    return { kind: 'rec-array', shape: a.shape, dtype: a.dtype, arrays: { self: a } };
  },
  materialize: async (desc, ctx, sel) => {
    noSelection(desc, sel);
    const a = part(desc, 'self');
    let r: Awaited<ReturnType<ZArray['getRecords']>>;
    try {
      r = await a.getRecords(null, { signal: ctx.opts.signal });
    } catch (e) {
      throw namingElem(e, a.path);
    }
    return new RecArray(
      r.shape,
      r.fields.map((f) => ({ name: f.name, dtype: f.element.dtype, data: f.data, numpyDtype: f.element.numpyDtype })),
    );
  },
  accepts: (e) => e instanceof RecArray,
  write: async (parent, key, e, ctx, ds) => {
    const rec = e as RecArray;
    const path = joinPath(parent.path, key);
    rec.check(path);
    const n = numel(rec.shape);
    const numpyDtype = rec.fields.map((f): [string, string] => [f.name, fieldNumpy(f, path)]);
    const layout = layoutFor('dense', rec.shape, 'record', ctx.opts, ds);
    const compressors =
      ds.compressors !== undefined
        ? ds.compressors
        : ctx.opts.compressor !== undefined
          ? ctx.opts.compressor
          : defaultCompressor('record');
    const arr = await parent.createArray(key, {
      shape: rec.shape,
      dtype: 'record',
      numpyDtype,
      chunks: layout.chunks,
      shards: layout.shards,
      ...(compressors === undefined ? {} : { compressors }),
      attributes: encodingAttrs(SPEC),
      zarrFormat: ctx.opts.zarrFormat,
      overwrite: true,
      signal: ctx.opts.signal,
    });
    if (n > 0) await arr.setRecords(null, rec.fields, { signal: ctx.opts.signal });
  },
};

register(REC_ARRAY);
registerLegacy('recArray', REC_ARRAY);
