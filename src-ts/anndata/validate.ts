// Validation of a whole element tree before the first byte is written, so that bad input fails
// with an error naming the element and leaves the store as it was.

import { inferDType } from '../zarr/dtype.js';
import { InvalidInputError } from '../zarr/errors.js';
import { AnnData } from './anndata.js';
import { type Column, columnLength, DataFrame, isColumn } from './dataframe.js';
import { AwkwardArray, isDense, isSparse, NumericScalar, numel, RecArray, validateCompressed } from './elems.js';
import { checkKeyName, elemPath, joinPath } from './registry.js';

function fail(path: string, msg: string): never {
  throw new InvalidInputError('InvalidInput', `'${elemPath(path)}' ${msg}`, { key: path });
}

function validateColumn(c: Column, path: string): void {
  switch (c.kind) {
    case 'categorical': {
      validateColumn(c.categories, joinPath(path, 'categories'));
      const n = columnLength(c.categories);
      for (let i = 0; i < c.codes.length; i++) {
        const k = Number(c.codes[i]);
        if (k < -1 || k >= n) fail(path, `has categorical code ${k} at row ${i}, outside [-1, ${n})`);
      }
      return;
    }
    case 'nullable-integer':
    case 'nullable-boolean':
    case 'nullable-string':
      if (c.mask.length !== c.values.length)
        fail(path, `has ${c.values.length} values but ${c.mask.length} mask entries`);
      return;
    default:
      return;
  }
}

function validateFrame(df: DataFrame, path: string): void {
  const indexKey = df.indexName ?? '_index';
  checkKeyName(indexKey, path);
  validateColumn(df.index, joinPath(path, indexKey));
  for (const name of df.columns) {
    const p = joinPath(path, name);
    checkKeyName(name, p);
    if (name === '_index') fail(p, "is a column named '_index', which is reserved for the index");
    if (name === indexKey) fail(p, 'is a column with the same name as the index');
    validateColumn(df.get(name), p);
  }
}

/**
 * Check `elem` (and everything below it) is writable; rejects with InvalidInput naming the
 * element. Sparse structures are checked natively, all at once.
 */
export async function validateElem(elem: unknown, path: string): Promise<void> {
  const sparse: Promise<void>[] = [];
  walk(elem, path, sparse);
  await Promise.all(sparse);
}

function walk(elem: unknown, path: string, sparse: Promise<void>[]): void {
  if (elem === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof elem)) return;
  if (elem instanceof NumericScalar) return;
  if (elem instanceof AnnData) {
    elem.validate();
    validateFrame(elem.obs, joinPath(path, 'obs'));
    validateFrame(elem.var, joinPath(path, 'var'));
    if (elem.X) walk(elem.X, joinPath(path, 'X'), sparse);
    for (const k of ['obsm', 'varm', 'obsp', 'varp', 'layers', 'uns'] as const) {
      walk({ ...elem[k] }, joinPath(path, k), sparse);
    }
    if (elem.raw) walk({ ...elem.raw }, joinPath(path, 'raw'), sparse);
    return;
  }
  if (elem instanceof DataFrame) {
    validateFrame(elem, path);
    return;
  }
  if (isSparse(elem)) {
    sparse.push(validateCompressed(elem, path));
    return;
  }
  if (isColumn(elem)) {
    validateColumn(elem, path);
    return;
  }
  if (elem instanceof RecArray) {
    elem.check(path);
    return;
  }
  if (elem instanceof AwkwardArray) {
    for (const [k, b] of Object.entries(elem.buffers)) walk(b, joinPath(path, k), sparse);
    return;
  }
  if (isDense(elem)) {
    const dtype = elem.dtype ?? inferDType(elem.data, path);
    if (!elem.shape.every((s) => Number.isSafeInteger(s) && s >= 0)) fail(path, `has an invalid shape [${elem.shape}]`);
    if (numel(elem.shape) !== elem.data.length) {
      fail(path, `has shape [${elem.shape.join(', ')}] but ${elem.data.length} values`);
    }
    if (dtype === 'string' && !(elem.data as unknown[]).every((s) => typeof s === 'string')) {
      fail(path, 'is a string array with non-string values');
    }
    return;
  }
  if (typeof elem === 'object' && Object.getPrototypeOf(elem) === Object.prototype) {
    for (const [k, v] of Object.entries(elem as Record<string, unknown>)) {
      const p = joinPath(path, k);
      checkKeyName(k, p);
      walk(v, p, sparse);
    }
    return;
  }
  fail(
    path,
    `cannot be written: ${elem === undefined ? 'undefined' : (elem.constructor?.name ?? typeof elem)} is not an AnnData element`,
  );
}
