// Row-stacking of matrices (X, a layer, an obsm entry) as python anndata's concat does it:
// each part's columns moved to their joined positions, missing values and missing parts filled
// (NaN when every part is dense, 0 when any is sparse), dtypes promoted as numpy promotes them.

import { inferDType, typedArray } from '../../zarr/dtype.js';
import { UnsupportedError } from '../../zarr/errors.js';
import { CsrMatrix, isSparse, type Matrix, type NumericDType } from '../elems.js';

/** One input's matrix (null: the input lacks the element) and where its columns go. */
export interface StackPart {
  matrix: Matrix | null;
  rows: number;
  /** Output column of each input column (-1: dropped by the join). */
  cols: (width: number) => Int32Array;
}

type Kind = 'b' | 'i' | 'u' | 'f';
const INFO: Record<NumericDType, [Kind, number]> = {
  bool: ['b', 1],
  int8: ['i', 1],
  int16: ['i', 2],
  int32: ['i', 4],
  int64: ['i', 8],
  uint8: ['u', 1],
  uint16: ['u', 2],
  uint32: ['u', 4],
  uint64: ['u', 8],
  float16: ['f', 2],
  float32: ['f', 4],
  float64: ['f', 8],
};
const OF_SIZE: Record<'i' | 'f', Record<number, NumericDType>> = {
  i: { 2: 'int16', 4: 'int32', 8: 'int64', 16: 'float64' },
  f: { 2: 'float16', 4: 'float32', 8: 'float64' },
};

type Typed = { [i: number]: number | bigint; length: number; set(a: ArrayLike<number>): void };
const newTyped = (dtype: NumericDType, n: number) => typedArray(dtype, n) as unknown as Typed;

/** A matrix's dtype (a dense array made in memory may leave it to be inferred). */
function dtypeOf(m: Matrix, path: string): NumericDType {
  return (m.dtype ?? inferDType(m.data, path)) as NumericDType;
}

/** numpy's `promote_types` for the numeric dtypes. */
export function promote(a: NumericDType, b: NumericDType): NumericDType {
  const [ka, sa] = INFO[a];
  const [kb, sb] = INFO[b];
  if (a === b || kb === 'b') return a;
  if (ka === 'b') return b;
  if (ka === kb) return sa >= sb ? a : b;
  if (ka === 'f' || kb === 'f') {
    const [f, fs, os] = ka === 'f' ? [a, sa, sb] : [b, sb, sa];
    // the smallest float that holds every integer of the other: 1 byte -> 2, 2 -> 4, else 8
    const need = Math.min(8, os * 2);
    return fs >= need ? f : OF_SIZE.f[need];
  }
  const [s, ss, us] = ka === 'i' ? [a, sa, sb] : [b, sb, sa];
  return ss > us ? s : OF_SIZE.i[us * 2];
}

/** `data` of dtype `from` as an array of dtype `to`. */
function cast(data: ArrayLike<number | bigint>, from: NumericDType, to: NumericDType, path: string): Typed {
  if (from === to) return data as unknown as Typed;
  if (from === 'float16' || to === 'float16') {
    throw new UnsupportedError('Unsupported', `concat: '/${path}' would need a float16 conversion`, { key: path });
  }
  const out = newTyped(to, data.length);
  if (typeof data[0] === 'bigint' || out instanceof BigInt64Array || out instanceof BigUint64Array) {
    const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
    for (let i = 0; i < data.length; i++) out[i] = big ? BigInt(data[i]) : Number(data[i]);
  } else {
    out.set(data as ArrayLike<number>);
  }
  return out;
}

/** A part as CSR of its own dtype (dense: its non-zeros; a missing part: empty float64, as scipy's default). */
function asCsr(p: StackPart, width: number): CsrMatrix {
  const m = p.matrix;
  if (m === null) {
    return new CsrMatrix({
      data: new Float64Array(0),
      indices: new Int32Array(0),
      indptr: new Int32Array(p.rows + 1),
      shape: [p.rows, width],
      dtype: 'float64',
    });
  }
  if (isSparse(m) && m.format === 'csr') return m;
  const [n, k] = m.shape;
  const at = (i: number, c: number) => i * k + c;
  if (!isSparse(m)) {
    const src = m.data as unknown as Typed;
    const keep: number[] = [];
    const indptr = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) if (Number(src[at(i, c)]) !== 0) keep.push(at(i, c));
      indptr[i + 1] = keep.length;
    }
    const dtype = dtypeOf(m, '');
    const data = newTyped(dtype, keep.length);
    keep.forEach((q, j) => {
      data[j] = src[q];
    });
    return new CsrMatrix({
      data: data as never,
      indices: Int32Array.from(keep, (q) => q % k),
      indptr,
      shape: [n, k],
      dtype,
    });
  }
  // CSC -> CSR: count entries per row, then place them column by column (rows stay sorted)
  const ptr = Array.from(m.indptr as ArrayLike<number | bigint>, Number);
  const idx = Array.from(m.indices as ArrayLike<number | bigint>, Number);
  const indptr = new Int32Array(n + 1);
  for (const r of idx) indptr[r + 1]++;
  for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
  const next = indptr.slice(0, n);
  const src = m.data as unknown as Typed;
  const data = newTyped(m.dtype, idx.length);
  const indices = new Int32Array(idx.length);
  for (let c = 0; c < k; c++) {
    for (let q = ptr[c]; q < ptr[c + 1]; q++) {
      const to = next[idx[q]]++;
      data[to] = src[q];
      indices[to] = c;
    }
  }
  return new CsrMatrix({ data: data as never, indices, indptr, shape: [n, k], dtype: m.dtype });
}

/** The dtype python's reindexing gives a part: a filled gap makes it dtype x float64 (NaN) or keeps it (sparse 0). */
function partDtype(p: StackPart, width: number, sparse: boolean): NumericDType {
  if (p.matrix === null) return 'float64';
  const dtype = dtypeOf(p.matrix, '');
  if (sparse) return dtype;
  const cols = p.cols(width);
  const covered = new Set(cols.filter((j) => j >= 0)).size;
  return covered < width ? promote(dtype, 'float64') : dtype;
}

/**
 * Stack `parts` along rows into a `width`-column matrix. Any sparse part makes the result CSR
 * (python's vstack(format='csr')); otherwise it is dense. Throws Unsupported naming `path` for
 * parts that are not numeric 2-D matrices.
 */
export function stackParts(parts: readonly StackPart[], width: number, path: string): Matrix {
  for (const p of parts) {
    const m = p.matrix;
    if (m !== null && (m.shape.length !== 2 || !(dtypeOf(m, path) in INFO))) {
      throw new UnsupportedError(
        'Unsupported',
        `concat: '/${path}' has a part of dtype ${dtypeOf(m, path)} and shape [${m.shape}]: only numeric 2-D matrices concatenate`,
        { key: path },
      );
    }
  }
  const sparse = parts.some((p) => isSparse(p.matrix));
  const dtype = parts.map((p) => partDtype(p, width, sparse)).reduce(promote);
  const n = parts.reduce((s, p) => s + p.rows, 0);
  return sparse ? stackCsr(parts, width, n, dtype, path) : stackDense(parts, width, n, dtype, path);
}

function stackDense(parts: readonly StackPart[], J: number, n: number, dtype: NumericDType, path: string): Matrix {
  const out = newTyped(dtype, n * J);
  // a float result may have gaps (NaN); an integer one has none (a gap promotes to float64)
  if (out instanceof Float32Array || out instanceof Float64Array) out.fill(Number.NaN);
  let row = 0;
  for (const p of parts) {
    const m = p.matrix;
    if (m !== null) {
      const k = m.shape[1];
      const cols = p.cols(J);
      const src = cast(m.data as ArrayLike<number | bigint>, dtypeOf(m, path), dtype, path);
      for (let i = 0; i < p.rows; i++) {
        for (let c = 0; c < k; c++) if (cols[c] >= 0) out[(row + i) * J + cols[c]] = src[i * k + c];
      }
    }
    row += p.rows;
  }
  return { dtype, data: out as never, shape: [n, J] };
}

function stackCsr(parts: readonly StackPart[], J: number, n: number, dtype: NumericDType, path: string): Matrix {
  const csr = parts.map((p) => asCsr(p, J));
  const nnz = csr.reduce((s, m) => s + m.data.length, 0);
  const data = newTyped(dtype, nnz);
  const indices = new Int32Array(nnz);
  const indptr = new Int32Array(n + 1);
  let row = 0;
  let at = 0;
  csr.forEach((m, i) => {
    const cols = parts[i].cols(J);
    const src = cast(m.data as ArrayLike<number | bigint>, m.dtype, dtype, path);
    const ptr = m.indptr;
    for (let r = 0; r < m.shape[0]; r++) {
      for (let q = Number(ptr[r]); q < Number(ptr[r + 1]); q++) {
        const j = cols[Number(m.indices[q])];
        if (j < 0) continue;
        data[at] = src[q];
        indices[at++] = j;
      }
      indptr[++row] = at;
    }
  });
  return new CsrMatrix({
    data: data.length === at ? (data as never) : ((data as unknown as Float64Array).slice(0, at) as never),
    indices: indices.slice(0, at),
    indptr,
    shape: [n, J],
    dtype,
  });
}
