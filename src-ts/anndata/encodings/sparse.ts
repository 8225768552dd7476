// csr_matrix / csc_matrix: a group with `shape` and the `data`, `indices`, `indptr` arrays
// (which carry no encoding attributes). Each array is read or written with one native call;
// the three run concurrently. The structure is checked before anything is written and after
// reading, so a bad matrix is an error naming the element, never a silent misread.

import type { ZArray } from '../../zarr/array.js';
import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import {
  CscMatrix,
  CsrMatrix,
  type IndexArray,
  isSparse,
  type NumericDType,
  type Sparse,
  validateCompressed,
} from '../elems.js';
import { elemPath, encodingAttrs, registerReader, registerWriter } from '../registry.js';
import { readDense, writeArray } from './dense.js';

function readSparse(format: 'csr' | 'csc') {
  return async (node: Group | ZArray, ctx: import('../registry.js').ReadCtx): Promise<Sparse> => {
    const g = node as Group;
    const path = elemPath(g);
    const shape = g.attrs.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
      throw new InvalidMetadataError('InvalidMetadata', `'${path}': attribute 'shape' must be [rows, cols]`, {
        key: g.path,
      });
    }
    const [data, indices, indptr] = await Promise.all(
      ['data', 'indices', 'indptr'].map(async (name) => readDense(await ctx.child(g, name), ctx.opts.signal)),
    );
    for (const [name, a] of [
      ['indices', indices],
      ['indptr', indptr],
    ] as const) {
      if (a.dtype !== 'int32' && a.dtype !== 'int64') {
        throw new InvalidMetadataError('InvalidMetadata', `'${path}/${name}' must be int32 or int64, not ${a.dtype}`, {
          key: `${g.path}/${name}`,
        });
      }
    }
    if (data.dtype === 'string') {
      throw new InvalidMetadataError('InvalidMetadata', `'${path}/data' holds strings`, { key: `${g.path}/data` });
    }
    const Ctor = format === 'csr' ? CsrMatrix : CscMatrix;
    const m = new Ctor({
      data: data.data as never,
      indices: indices.data as IndexArray,
      indptr: indptr.data as IndexArray,
      shape: shape as [number, number],
      dtype: data.dtype as NumericDType,
    });
    try {
      await validateCompressed(m, g.path);
    } catch (e) {
      throw new InvalidMetadataError('InvalidMetadata', (e as Error).message, { key: g.path });
    }
    return m;
  };
}

registerReader('csr_matrix', '0.1.0', { kind: 'group', read: readSparse('csr') });
registerReader('csc_matrix', '0.1.0', { kind: 'group', read: readSparse('csc') });

registerWriter({
  accepts: isSparse,
  spec: (e) => ({ encodingType: `${(e as Sparse).format}_matrix`, encodingVersion: '0.1.0' }),
  write: async (parent, key, e, ctx, ds) => {
    const m = e as Sparse;
    const g = await parent.createGroup(key, {
      zarrFormat: ctx.opts.zarrFormat,
      attributes: {
        ...encodingAttrs({ encodingType: `${m.format}_matrix`, encodingVersion: '0.1.0' }),
        shape: m.shape,
      },
      overwrite: true,
      signal: ctx.opts.signal,
    });
    // dataset options (chunks/shards) apply to data and indices, as in python's write_sparse
    await Promise.all([
      writeArray(g, 'data', { dtype: m.dtype, data: m.data, shape: [m.data.length] }, {}, ctx, 'sparse', ds),
      writeArray(g, 'indices', { data: m.indices, shape: [m.indices.length] }, {}, ctx, 'sparse', ds),
      writeArray(g, 'indptr', { data: m.indptr, shape: [m.indptr.length] }, {}, ctx, 'indptr'),
    ]);
  },
});
