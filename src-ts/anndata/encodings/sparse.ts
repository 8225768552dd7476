// csr_matrix / csc_matrix: a group with `shape` and the `data`, `indices`, `indptr` arrays
// (which carry no encoding attributes). Each array is read or written with one native call;
// the three run concurrently. The structure is checked from metadata when describing and
// after reading, so a bad matrix is an error naming the element, never a silent misread. A
// contiguous slice of the major axis (CSR rows, CSC columns) reads only its indptr and data range.

import { InvalidMetadataError, UnsupportedError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { slice } from '../../zarr/selection.js';
import {
  CscMatrix,
  CsrMatrix,
  type IndexArray,
  isSparse,
  type NumericDType,
  type Sparse,
  validateCompressed,
} from '../elems.js';
import {
  type ElemDesc,
  type ElemSelection,
  elemPath,
  encodingAttrs,
  type Node,
  part,
  type ReadCtx,
  register,
} from '../registry.js';
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

/**
 * The major-axis range `sel` asks for (rows of CSR, columns of CSC): only a contiguous slice
 * is natural (one indptr range, one data/indices range); null when `sel` takes everything.
 */
function majorRange(desc: ElemDesc, format: 'csr' | 'csc', sel?: ElemSelection): [number, number] | null {
  if (sel === undefined || sel.every((s) => s === null || s === undefined)) return null;
  const axis = format === 'csr' ? 0 : 1;
  const s = sel[axis];
  const others = sel.every((x, i) => i === axis || x === null || x === undefined);
  const n = (desc.shape as number[])[axis];
  if (others && typeof s === 'object' && s !== null && 'kind' in s && s.kind === 'slice' && (s.step ?? 1) === 1) {
    const at = (v: number | null, dflt: number) => (v === null ? dflt : Math.min(n, Math.max(0, v < 0 ? v + n : v)));
    const start = at(s.start, 0);
    return [start, Math.max(start, at(s.stop, n))];
  }
  throw new UnsupportedError(
    'Unsupported',
    `'${elemPath(desc.path)}': a ${format}_matrix can be read whole or as a contiguous slice of its ${format === 'csr' ? 'rows' : 'columns'}`,
    { key: desc.path },
  );
}

/** Read the major-axis range [start, stop): its indptr slice, then its data/indices range. */
async function readMajorRange(desc: ElemDesc, [start, stop]: [number, number], ctx: ReadCtx) {
  const indptr = await readDense(part(desc, 'indptr'), ctx, [slice(start, stop + 1)]);
  const ptr = indptr.data as IndexArray;
  const [lo, hi] = [Number(ptr[0]), Number(ptr[ptr.length - 1])];
  const [data, indices] = await Promise.all(
    ['data', 'indices'].map((n) => readDense(part(desc, n), ctx, [slice(lo, hi)])),
  );
  // rebase indptr on the range's first stored value
  const rebased = ptr instanceof BigInt64Array ? ptr.map((v) => v - BigInt(lo)) : ptr.map((v) => v - lo);
  return { data, indices, indptr: { ...indptr, data: rebased } };
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
      const range = majorRange(desc, format, sel);
      const whole = async () => {
        const [data, indices, indptr] = await Promise.all(
          ['data', 'indices', 'indptr'].map((n) => readDense(part(desc, n), ctx)),
        );
        return { data, indices, indptr };
      };
      const { data, indices, indptr } = range === null ? await whole() : await readMajorRange(desc, range, ctx);
      const shape = [...(desc.shape as [number, number])] as [number, number];
      if (range !== null) shape[format === 'csr' ? 0 : 1] = range[1] - range[0];
      const m = new Ctor({
        data: data.data as never,
        indices: indices.data as IndexArray,
        indptr: indptr.data as IndexArray,
        shape,
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
