// A small AnnData that uses every encoding we write, for round-trip tests.

import { AnnData, AwkwardArray, CscMatrix, CsrMatrix, col, DataFrame, NumericScalar } from '../src-ts/anndata/index.js';
import { numberToF16 } from './helpers.js';

export function sampleAnnData(n = 6, m = 5): AnnData {
  const rows = Array.from({ length: n }, (_, i) => i);
  const obs = new DataFrame({
    index: rows.map((i) => `cell-${i}-ü`),
    indexName: 'cell_id',
    columns: {
      cat: col.categorical(
        rows.map((i) => (i % 4 === 3 ? null : ['b', 'a', 'c'][i % 3])),
        { categories: ['b', 'a', 'c'] },
      ),
      ordered: {
        ...col.categorical(
          rows.map((i) => ['lo', 'mid', 'hi'][i % 3]),
          { categories: ['lo', 'mid', 'hi'] },
        ),
        ordered: true,
      },
      numcat: {
        kind: 'categorical',
        codes: Int8Array.from(rows, (i) => (i % 2 ? 1 : 0)),
        categories: { kind: 'numeric', dtype: 'int64', data: BigInt64Array.from([10n, 20n]) },
        ordered: false,
      },
      b: col.bool(rows.map((i) => i % 2 === 0)),
      i8: col.numeric(Int8Array.from(rows, (i) => -i)),
      i16: col.numeric(Int16Array.from(rows, (i) => i * 300)),
      i32: col.numeric(Int32Array.from(rows, (i) => i * 70000)),
      i64: col.numeric(BigInt64Array.from(rows, (i) => BigInt(i) * 2n ** 40n)),
      u8: col.numeric(Uint8Array.from(rows, (i) => 250 - i)),
      u16: col.numeric(Uint16Array.from(rows, (i) => i * 1000)),
      u32: col.numeric(Uint32Array.from(rows, (i) => i * 4e8)),
      u64: col.numeric(BigUint64Array.from(rows, (i) => BigInt(i) * 2n ** 50n)),
      f16: col.numeric(
        Uint16Array.from(rows, (i) => numberToF16(i / 4)),
        'float16',
      ),
      f32: col.numeric(Float32Array.from(rows, (i) => i / 8)),
      f64: col.numeric(Float64Array.from(rows, (i) => (i === 2 ? Number.NaN : i / 3))),
      str: col.string(rows.map((i) => `s${i}`)),
      'ünïcode name': col.string(rows.map((i) => `ω${i}`)),
      nint: {
        kind: 'nullable-integer',
        dtype: 'int32',
        values: Int32Array.from(rows, (i) => (i % 3 === 0 ? 0 : i)),
        mask: Uint8Array.from(rows, (i) => (i % 3 === 0 ? 1 : 0)),
      },
      nbool: {
        kind: 'nullable-boolean',
        values: Uint8Array.from(rows, (i) => (i % 2 === 0 && i % 5 !== 0 ? 1 : 0)),
        mask: Uint8Array.from(rows, (i) => (i % 5 === 0 ? 1 : 0)),
      },
      nstr: col.nullableString(
        rows.map((i) => (i === 1 ? null : `n${i}`)),
        'NA',
      ),
      nstrNaN: col.nullableString(
        rows.map((i) => (i === 4 ? null : `m${i}`)),
        'NaN',
      ),
    },
  });
  const vr = new DataFrame({
    index: col.nullableString(
      Array.from({ length: m }, (_, j) => `gene${j}`),
      'NaN',
    ),
    columns: { highly_variable: col.bool(Array.from({ length: m }, (_, j) => j % 2 === 0)) },
  });
  // a dense n x m with zeros, and its CSR / CSC forms
  const dense = Float32Array.from({ length: n * m }, (_, k) => ((k * 7) % 5 === 0 ? k / 2 : 0));
  const csr = toCsr(dense, n, m, false);
  const csc = toCsc(dense, n, m);
  return new AnnData({
    X: csr,
    obs,
    var: vr,
    layers: { dense: { dtype: 'float32', data: dense, shape: [n, m] }, csc },
    obsm: {
      X_pca: { data: Float64Array.from({ length: n * 2 }, (_, k) => k / 10), shape: [n, 2] },
      sparse: toCsr(dense, n, m, true),
      // python gives aligned frames the obs index, name included
      frame: new DataFrame({
        index: obs.index,
        indexName: 'cell_id',
        columns: { a: col.numeric(Float32Array.from(rows)) },
      }),
    },
    varm: { loadings: { data: Float32Array.from({ length: m * 3 }, (_, k) => k), shape: [m, 3] } },
    obsp: {
      distances: toCsr(
        Float32Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)),
        n,
        n,
        false,
      ),
    },
    varp: { corr: { data: Float64Array.from({ length: m * m }, (_, k) => k), shape: [m, m] } },
    uns: {
      nested: { deeper: { value: new NumericScalar('int32', 3), text: 'hello' }, flag: true },
      int: 42,
      float: 0.5,
      f32: new NumericScalar('float32', 1.5),
      nothing: null,
      names: { dtype: 'string', data: ['x', 'y', 'z'], shape: [3] },
      matrix: { data: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] },
      frame: new DataFrame({ index: ['r1', 'r2'], columns: { v: col.numeric(Float64Array.from([1, 2])) } }),
      ünï: 'ok',
      Case: 'upper',
      case: 'lower',
      ragged: new AwkwardArray(
        // the verbose form awkward itself writes
        {
          class: 'ListOffsetArray',
          offsets: 'i64',
          content: { class: 'NumpyArray', primitive: 'int64', inner_shape: [], parameters: {}, form_key: 'node1' },
          parameters: {},
          form_key: 'node0',
        },
        3,
        {
          'node0-offsets': { dtype: 'int64', data: BigInt64Array.from([0n, 2n, 2n, 5n]), shape: [4] },
          'node1-data': { dtype: 'int64', data: BigInt64Array.from([1n, 2n, 3n, 4n, 5n]), shape: [5] },
        },
      ),
    },
    raw: {
      X: toCsr(dense, n, m, false),
      var: new DataFrame({ index: Array.from({ length: m }, (_, j) => `raw${j}`) }),
      varm: { v: { data: Float32Array.from({ length: m }, (_, j) => j), shape: [m, 1] } },
    },
  });
}

export function toCsr(dense: Float32Array, n: number, m: number, int64: boolean): CsrMatrix {
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = [0];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const v = dense[i * m + j];
      if (v !== 0) {
        data.push(v);
        indices.push(j);
      }
    }
    indptr.push(data.length);
  }
  return new CsrMatrix({
    data: Float32Array.from(data),
    indices: int64 ? BigInt64Array.from(indices, BigInt) : Int32Array.from(indices),
    indptr: int64 ? BigInt64Array.from(indptr, BigInt) : Int32Array.from(indptr),
    shape: [n, m],
  });
}

/** CSC of an n x m dense matrix: the CSR of its transpose, relabelled. */
export function toCsc(dense: Float32Array, n: number, m: number): CscMatrix {
  const t = Float32Array.from({ length: n * m }, (_, k) => dense[(k % n) * m + Math.floor(k / n)]);
  const csr = toCsr(t, m, n, false);
  return new CscMatrix({ data: csr.data, indices: csr.indices, indptr: csr.indptr, shape: [n, m] });
}
