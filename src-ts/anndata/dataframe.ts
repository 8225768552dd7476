// DataFrame: an index plus ordered columns, each keeping its AnnData encoding exactly
// (categorical codes/categories/ordered, nullable masks, the na-value of nullable strings).
// Conversion to and from Apache Arrow lives in ./arrow.ts.

import { inferDType, type NumericDType, type NumericTypedArray } from '../zarr/dtype.js';
import { InvalidInputError } from '../zarr/errors.js';

export type CodesArray = Int8Array | Int16Array | Int32Array | BigInt64Array;

/** A numeric (or float16-bits) column. */
export interface NumericColumn {
  kind: 'numeric';
  dtype: Exclude<NumericDType, 'bool'>;
  data: NumericTypedArray;
}
/** Bools as 0/1. */
export interface BoolColumn {
  kind: 'bool';
  data: Uint8Array;
}
export interface StringColumn {
  kind: 'string';
  data: string[];
}
/** Codes index `categories`; -1 is missing. */
export interface CategoricalColumn {
  kind: 'categorical';
  codes: CodesArray;
  categories: NumericColumn | StringColumn | BoolColumn;
  ordered: boolean;
}
/** Integers with a missing mask (1 = missing; values there are 0). */
export interface NullableIntegerColumn {
  kind: 'nullable-integer';
  dtype: 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
  values: NumericTypedArray;
  mask: Uint8Array;
}
export interface NullableBooleanColumn {
  kind: 'nullable-boolean';
  values: Uint8Array;
  mask: Uint8Array;
}
/** Strings with a missing mask; `naValue` is how pandas spells missing ("NA" or pandas 3's "NaN"). */
export interface NullableStringColumn {
  kind: 'nullable-string';
  values: string[];
  mask: Uint8Array;
  naValue: 'NA' | 'NaN';
}

export type Column =
  | NumericColumn
  | BoolColumn
  | StringColumn
  | CategoricalColumn
  | NullableIntegerColumn
  | NullableBooleanColumn
  | NullableStringColumn;

export const COLUMN_KINDS = new Set<string>([
  'numeric',
  'bool',
  'string',
  'categorical',
  'nullable-integer',
  'nullable-boolean',
  'nullable-string',
]);

export function isColumn(x: unknown): x is Column {
  return typeof x === 'object' && x !== null && COLUMN_KINDS.has((x as { kind?: string }).kind ?? '');
}

/** Number of rows of a column. */
export function columnLength(c: Column): number {
  switch (c.kind) {
    case 'numeric':
    case 'bool':
    case 'string':
      return c.data.length;
    case 'categorical':
      return c.codes.length;
    default:
      return c.values.length;
  }
}

/** Column constructors for the common cases. */
export const col = {
  /** A numeric column; the dtype follows the TypedArray (`Uint16Array` + 'float16' for halves). */
  numeric(data: NumericTypedArray, dtype?: NumericColumn['dtype']): NumericColumn {
    return { kind: 'numeric', dtype: dtype ?? (inferDType(data, 'column') as NumericColumn['dtype']), data };
  },
  bool(data: Uint8Array | boolean[]): BoolColumn {
    return { kind: 'bool', data: data instanceof Uint8Array ? data : Uint8Array.from(data, (b) => (b ? 1 : 0)) };
  },
  string(data: string[]): StringColumn {
    return { kind: 'string', data };
  },
  /** Categorical from values (null = missing); categories in order of first appearance unless given. */
  categorical(values: (string | null)[], opts: { categories?: string[]; ordered?: boolean } = {}): CategoricalColumn {
    const cats = opts.categories ?? [...new Set(values.filter((v): v is string => v !== null))];
    const pos = new Map(cats.map((c, i) => [c, i]));
    const codes = codesArray(cats.length, values.length);
    values.forEach((v, i) => {
      const p = v === null ? -1 : pos.get(v);
      if (p === undefined) throw new InvalidInputError('InvalidInput', `'${v}' is not among the categories`);
      codes[i] = p as never;
    });
    return { kind: 'categorical', codes, categories: { kind: 'string', data: cats }, ordered: opts.ordered ?? false };
  },
  /** Nullable strings from values (null = missing). */
  nullableString(values: (string | null)[], naValue: 'NA' | 'NaN' = 'NA'): NullableStringColumn {
    return {
      kind: 'nullable-string',
      values: values.map((v) => v ?? ''),
      mask: Uint8Array.from(values, (v) => (v === null ? 1 : 0)),
      naValue,
    };
  },
};

/** The smallest signed codes array pandas would use for `nCategories` (int8/16/32/64). */
export function codesArray(nCategories: number, length: number): CodesArray {
  if (nCategories < 2 ** 7) return new Int8Array(length);
  if (nCategories < 2 ** 15) return new Int16Array(length);
  if (nCategories < 2 ** 31) return new Int32Array(length);
  return new BigInt64Array(length);
}

/** A column's values as plain JS values (null for missing), e.g. for display or the index. */
export function columnValues(c: Column): (string | number | bigint | boolean | null)[] {
  switch (c.kind) {
    case 'numeric':
      return Array.from(c.data as ArrayLike<number | bigint>);
    case 'bool':
      return Array.from(c.data, (v) => v !== 0);
    case 'string':
      return [...c.data];
    case 'categorical': {
      const cats = columnValues(c.categories);
      return Array.from(c.codes as ArrayLike<number | bigint>, (k) => (Number(k) < 0 ? null : cats[Number(k)]));
    }
    case 'nullable-integer':
      return Array.from(c.values as ArrayLike<number | bigint>, (v, i) => (c.mask[i] ? null : v));
    case 'nullable-boolean':
      return Array.from(c.values, (v, i) => (c.mask[i] ? null : v !== 0));
    case 'nullable-string':
      return c.values.map((v, i) => (c.mask[i] ? null : v));
  }
}

/** Index values as strings (what python shows as obs_names / var_names). */
export function indexStrings(c: Column): string[] {
  return columnValues(c).map((v) => (v === null ? 'nan' : String(v)));
}

export interface DataFrameInit {
  /** Row labels; default "0".."n-1" (python's RangeIndex, written as strings). */
  index?: Column | string[];
  /** The index name (`null` = unnamed, written as `_index`). */
  indexName?: string | null;
  /** Columns in order. */
  columns?: Record<string, Column> | [string, Column][];
  /** Row count when there is neither index nor column. */
  nRows?: number;
}

export class DataFrame {
  index: Column;
  indexName: string | null;
  readonly #columns = new Map<string, Column>();

  constructor(init: DataFrameInit = {}) {
    const entries = Array.isArray(init.columns) ? init.columns : Object.entries(init.columns ?? {});
    const n =
      init.index !== undefined
        ? Array.isArray(init.index)
          ? init.index.length
          : columnLength(init.index)
        : entries.length > 0
          ? columnLength(entries[0][1])
          : (init.nRows ?? 0);
    this.index = Array.isArray(init.index)
      ? { kind: 'string', data: init.index }
      : (init.index ?? { kind: 'string', data: Array.from({ length: n }, (_, i) => String(i)) });
    this.indexName = init.indexName ?? null;
    for (const [name, c] of entries) this.set(name, c);
  }

  /** Number of rows. */
  get nRows(): number {
    return columnLength(this.index);
  }

  /** Column names in order. */
  get columns(): string[] {
    return [...this.#columns.keys()];
  }

  /** Row labels as strings. */
  get indexValues(): string[] {
    return indexStrings(this.index);
  }

  has(name: string): boolean {
    return this.#columns.has(name);
  }

  /** The column, or throws InvalidInput naming it. */
  get(name: string): Column {
    const c = this.#columns.get(name);
    if (c === undefined) throw new InvalidInputError('InvalidInput', `no column '${name}'`, { key: name });
    return c;
  }

  /** Add or replace a column (kept in insertion order). */
  set(name: string, c: Column): this {
    if (!isColumn(c)) throw new InvalidInputError('InvalidInput', `column '${name}' is not a Column`, { key: name });
    const n = columnLength(c);
    if (n !== this.nRows) {
      throw new InvalidInputError('InvalidInput', `column '${name}' has ${n} rows, the frame has ${this.nRows}`, {
        key: name,
      });
    }
    this.#columns.set(name, c);
    return this;
  }

  delete(name: string): boolean {
    return this.#columns.delete(name);
  }

  /** A shallow copy: new frame and column map, shared column data. */
  copy(): DataFrame {
    return new DataFrame({ index: this.index, indexName: this.indexName, columns: [...this.#columns] });
  }

  toArrow(): import('apache-arrow').Table {
    return toArrowImpl(this);
  }

  static fromArrow(table: import('apache-arrow').Table, opts: { index?: string } = {}): DataFrame {
    return fromArrowImpl(table, opts);
  }
}

// Arrow conversion is registered by ./arrow.ts so that this module stays free of the import cycle.
let toArrowImpl: (df: DataFrame) => import('apache-arrow').Table;
let fromArrowImpl: (t: import('apache-arrow').Table, o: { index?: string }) => DataFrame;
export function registerArrow(to: typeof toArrowImpl, from: typeof fromArrowImpl): void {
  toArrowImpl = to;
  fromArrowImpl = from;
}
