// csr_matrix / csc_matrix: a group with `shape` and the `data`, `indices`, `indptr` arrays
// (which carry no encoding attributes). Each array is read or written with one native call;
// the three run concurrently. The structure is checked from metadata when describing and
// after reading, so a bad matrix is an error naming the element, never a silent misread. A
// contiguous slice of the major axis (CSR rows, CSC columns) reads only its indptr and data range;
// any other selection (positions, masks, steps, a minor-axis selection) is one native take.

import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { slice } from '../../zarr/selection.js';
import { type MinorSelection, takeSparse } from '../../zarr/sparse.js';
import { type AxisSel, checkAxis, positions } from '../axis.js';
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
  namingElem,
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

/** The major and minor axis selections of `sel` (CSR: rows, columns; CSC: columns, rows), checked. */
function axesOf(desc: ElemDesc, format: 'csr' | 'csc', sel?: ElemSelection): { major: AxisSel; minor: AxisSel } {
  const [n, m] = desc.shape as [number, number];
  const rows = checkAxis(sel?.[0], n, { path: desc.path, axis: 'rows' });
  const cols = checkAxis(sel?.[1], m, { path: desc.path, axis: 'columns' });
  return format === 'csr' ? { major: rows, minor: cols } : { major: cols, minor: rows };
}

/** Rows (CSC: columns) up to which a contiguous range is taken when indptr is cached. */
const SHORT_RANGE = 256;

/**
 * Major-axis lengths up to which a context that outlives one read (a lazy matrix's) reads the
 * whole indptr on its first short read (at most 8 MB of int64) and keeps it: each later short
 * read is then a take, without first fetching its own indptr slice. Through 20 ms of latency
 * that slice was one of a single row's two sequential round trips.
 */
const CACHED_INDPTR_MAX = 1_000_000;

/** A contiguous major range read directly (one indptr range, one data/indices range), or null. */
function majorRange(major: AxisSel, minor: AxisSel, n: number): [number, number] | null {
  if (minor.kind !== 'all') return null;
  if (major.kind === 'all') return [0, n];
  if (major.kind === 'range' && (major.step === 1 || major.length <= 1))
    return [major.start, major.start + major.length];
  // ascending consecutive positions (a single row, say) are a range too
  if (major.kind === 'points' && major.length > 0) {
    const p = major.points;
    for (let i = 1; i < p.length; i++) if (p[i] !== p[0] + i) return null;
    return [p[0], p[0] + p.length];
  }
  return null;
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
  return { data: data.data, indices: indices.data, indptr: rebased };
}

/**
 * Any other selection: the whole indptr (read once per context, so a lazy matrix reads it
 * once), then one native take of the asked major positions, filtered on the minor axis in the
 * same call; only the inner chunks of data/indices that hold those rows are read.
 */
async function gather(desc: ElemDesc, ctx: ReadCtx, major: AxisSel, minor: AxisSel, minorLength: number) {
  const ptrArray = part(desc, 'indptr');
  const indptr = await ctx.once(
    ptrArray,
    async () => (await readDense(ptrArray, ctx)).data as Int32Array | BigInt64Array,
  );
  const minorSel: MinorSelection | undefined =
    minor.kind === 'all'
      ? undefined
      : minor.kind === 'range' && minor.step === 1
        ? { start: minor.start, stop: minor.start + minor.length }
        : positions(minor);
  try {
    return await takeSparse(part(desc, 'data'), part(desc, 'indices'), indptr, positions(major), minorSel, {
      minorLength,
      signal: ctx.opts.signal,
    });
  } catch (e) {
    throw namingElem(e, desc.path);
  }
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
      const { major, minor } = axesOf(desc, format, sel);
      const majorAxis = format === 'csr' ? 0 : 1;
      const shape = [...(desc.shape as [number, number])] as [number, number];
      const whole = major.kind === 'all' && minor.kind === 'all';
      // a contiguous range reads its own indptr slice, unless it is short and the whole indptr
      // is at hand or worth keeping (a lazy matrix's, see CACHED_INDPTR_MAX): then a take saves a
      // round trip, which is what short reads pay for; long ones are bound by bandwidth, and a
      // plain range read is leaner
      const cacheable = ctx.outlivesRead && shape[majorAxis] <= CACHED_INDPTR_MAX;
      const short = major.length <= SHORT_RANGE && (cacheable || ctx.hasOnce(part(desc, 'indptr')));
      const range = whole || short ? null : majorRange(major, minor, shape[majorAxis]);
      const readWhole = async () => {
        const [data, indices, indptr] = await Promise.all(
          ['data', 'indices', 'indptr'].map((n) => readDense(part(desc, n), ctx)),
        );
        return { data: data.data, indices: indices.data, indptr: indptr.data };
      };
      const { data, indices, indptr } = whole
        ? await readWhole()
        : range !== null
          ? await readMajorRange(desc, range, ctx)
          : await gather(desc, ctx, major, minor, shape[1 - majorAxis]);
      shape[majorAxis] = major.length;
      shape[1 - majorAxis] = minor.length;
      const m = new Ctor({
        data: data as never,
        indices: indices as IndexArray,
        indptr: indptr as IndexArray,
        shape,
        dtype: desc.dtype as NumericDType,
      });
      try {
        await validateCompressed(m, desc.path);
      } catch (e) {
        throw new InvalidMetadataError('InvalidMetadata', (e as Error).message, { key: desc.path });
      }
      return m;
    },
    members: () => ['data', 'indices', 'indptr'],
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
