// zarrs-node/anndata: read and write AnnData (the scverse on-disk format) in Zarr v2 and v3.

import './arrow.js';

export {
  type ConvertOptions,
  type ConvertProgress,
  type ConvertReport,
  convert,
  type FinalizeReport,
  finalize,
  type Part,
} from '../convert/run.js';
export { type AlignedElem, AnnData, type AnnDataInit, type Raw, registerAnnDataNamespace } from './anndata.js';
export type { LazySelection } from './axis.js';
export { convertStringsToCategoricals } from './categoricals.js';
export {
  type BoolColumn,
  type CategoricalColumn,
  type CodesArray,
  type Column,
  col,
  columnLength,
  columnValues,
  DataFrame,
  type DataFrameInit,
  type NullableBooleanColumn,
  type NullableIntegerColumn,
  type NullableStringColumn,
  type NumericColumn,
  type StringColumn,
} from './dataframe.js';
export {
  AwkwardArray,
  CscMatrix,
  CsrMatrix,
  type Dense,
  type DenseArray,
  type DenseMatrix,
  type Elem,
  type ElemDict,
  type IOSpec,
  type Matrix,
  NumericScalar,
  type RawElem,
  RecArray,
  type RecArrayField,
  type Sparse,
} from './elems.js';
export {
  type ReadZarrOptions,
  readDispatched,
  readElem,
  readZarr,
  type WriteElemOptions,
  type WriteZarrOptions,
  writeDispatched,
  writeElem,
  writeZarr,
} from './io.js';
export { LazyAnnData, type ReadLazyOptions, readElemLazy, readLazy } from './lazy/anndata.js';
export { type ConcatOptions, concat, LazyConcat } from './lazy/concat.js';
export { LazyColumn, LazyDataFrame, type LazyElem, LazyMatrix, LazyValue } from './lazy/elems.js';
export type { DatasetOptions, ReadOptions, ShardPolicy } from './options.js';
export {
  ArrayRef,
  type AxisSelection,
  type ElemNode,
  type ElemSelection,
  type ReadCallback,
  type ReadFn,
  specOf,
  type WriteCallback,
  type WriteFn,
} from './registry.js';
export {
  type AnnDataBlock,
  AnnDataWriter,
  type AnnDataWriterOptions,
  type MatrixSpec,
  type ObsColumnSpec,
  type ObsSchema,
} from './writer.js';
