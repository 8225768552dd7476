// String columns as categoricals: convertStringsToCategoricals (like python's `strings_to_categoricals`,
// but on a copy) and the code-point order that python sorts categories in.

import { AnnData } from './anndata.js';
import { type CategoricalColumn, type Column, codesArray, type DataFrame } from './dataframe.js';

/** Python's str ordering (by code point), which differs from JS's UTF-16 order above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** A string column with repeated values as a categorical with sorted categories; else unchanged. */
export function stringsToCategorical(c: Column): Column {
  if (c.kind !== 'string' && c.kind !== 'nullable-string') return c;
  const values = c.kind === 'string' ? c.data : c.values;
  const missing = c.kind === 'nullable-string' ? c.mask : undefined;
  const uniq = new Set<string>();
  values.forEach((v, i) => {
    if (!missing?.[i]) uniq.add(v);
  });
  if (uniq.size >= values.length) return c;
  const cats = [...uniq].sort(compareCodePoints);
  const pos = new Map(cats.map((s, i) => [s, i]));
  const codes = codesArray(cats.length, values.length);
  values.forEach((v, i) => {
    codes[i] = (missing?.[i] ? -1 : (pos.get(v) as number)) as never;
  });
  const out: CategoricalColumn = {
    kind: 'categorical',
    codes,
    categories: { kind: 'string', data: cats },
    ordered: false,
  };
  return out;
}

function convertFrame(df: DataFrame): DataFrame {
  const out = df.copy();
  for (const name of out.columns) out.set(name, stringsToCategorical(out.get(name)));
  return out;
}

/** A shallow copy of `adata` whose obs/var string columns are categoricals; `adata` is untouched. */
export function convertStringsToCategoricals(adata: AnnData): AnnData {
  return new AnnData({
    X: adata.X,
    obs: convertFrame(adata.obs),
    var: convertFrame(adata.var),
    obsm: { ...adata.obsm },
    varm: { ...adata.varm },
    obsp: { ...adata.obsp },
    varp: { ...adata.varp },
    layers: { ...adata.layers },
    uns: { ...adata.uns },
    raw: adata.raw,
  });
}
