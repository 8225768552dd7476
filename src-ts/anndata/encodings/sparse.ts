// csr_matrix / csc_matrix: a group with `shape` and the `data`, `indices`, `indptr` arrays
// (which carry no encoding attributes). Each array is read or written with one native call;
// the three run concurrently. The structure is checked from metadata when describing and
// after reading, so a bad matrix is an error naming the element, never a silent misread.

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
import { elemPath, encodingAttrs, type Node, noSelection, part, type ReadCtx, register } from '../registry.js';
import { readDense, writeArray } from './dense.js';

async function describeSparse(node: Node, ctx: ReadCtx) {
  const g = node as Group;
  const path = elemPath(g);
  const shape = g.attrs.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new InvalidMetadataError('InvalidMetadata', `'${path}': attribute 'shape' must be [rows, cols]`, {
      key: g.path,
    });
  }
  const [data, indices, indptr] = await Promise.all(['data', 'indices', 'indptr'].map((n) => ctx.array(g, n)));
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
  return { kind: 'sparse' as const, shape: shape as number[], dtype: data.dtype, arrays: { data, indices, indptr } };
}

function registerSparse(format: 'csr' | 'csc') {
  const type = `${format}_matrix`;
  const Ctor = format === 'csr' ? CsrMatrix : CscMatrix;
  register({
    type,
    version: '0.1.0',
    node: 'group',
    describe: describeSparse,
    materialize: async (desc, ctx, sel): Promise<Sparse> => {
      noSelection(desc, sel);
      const [data, indices, indptr] = await Promise.all(
        ['data', 'indices', 'indptr'].map((n) => readDense(part(desc, n), ctx)),
      );
      const m = new Ctor({
        data: data.data as never,
        indices: indices.data as IndexArray,
        indptr: indptr.data as IndexArray,
        shape: desc.shape as [number, number],
        dtype: data.dtype as NumericDType,
      });
      try {
        await validateCompressed(m, desc.path);
      } catch (e) {
        throw new InvalidMetadataError('InvalidMetadata', (e as Error).message, { key: desc.path });
      }
      return m;
    },
    accepts: (e) => isSparse(e) && e.format === format,
    write: async (parent, key, e, ctx, ds) => {
      const m = e as Sparse;
      const g = await parent.createGroup(key, {
        zarrFormat: ctx.opts.zarrFormat,
        attributes: { ...encodingAttrs({ encodingType: type, encodingVersion: '0.1.0' }), shape: m.shape },
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
}
registerSparse('csr');
registerSparse('csc');
