// Content comparison of two described AnnData trees, whatever their zarr format, chunking,
// sharding or codecs: containers (anndata, raw, dicts, dataframes) are walked by key, and each
// leaf element pair is materialized (both sides at once, one pair at a time, so memory stays
// bounded by the largest element) and compared value by value. Reading a leaf is one call here
// (`materializeLeaf`), so block-wise reads can replace it without touching the walk.

import type { ElemDesc, ReadCtx } from '../anndata/registry.js';
import { formatShape } from './output.js';

/** One side of a comparison: a description and the context that materializes it. */
export interface Side {
  desc: ElemDesc;
  ctx: ReadCtx;
}

export type DifferenceKind = 'missing' | 'encoding' | 'shape' | 'dtype' | 'columns' | 'value';

export interface Difference {
  /** Element path, '/obs/cell_type'. */
  path: string;
  what: DifferenceKind;
  /** A one-line description. */
  message: string;
  /** Where inside the element (`codes`, `indices`), when not the element's values themselves. */
  part?: string;
  /** First differing position (n-d index for dense arrays). */
  index?: number[];
  /** The values (or encodings, shapes, dtypes) on each side, as text. */
  a?: string;
  b?: string;
  /** How many values differ (for value differences). */
  count?: number;
}

export interface Comparison {
  equal: boolean;
  differences: Difference[];
  /** Leaf elements whose values were compared. */
  compared: number;
  /** The comparison stopped at `maxDifferences`: the rest was not compared. */
  truncated: boolean;
}

const CONTAINERS = new Set(['anndata', 'anndata-raw', 'dict', 'dataframe']);

/** Compare two described elements (usually two AnnData roots). */
export async function compareElems(a: Side, b: Side, opts: { maxDifferences?: number } = {}): Promise<Comparison> {
  const max = opts.maxDifferences ?? 20;
  const out: Difference[] = [];
  let compared = 0;
  let truncated = false;
  const report = (d: Difference): void => {
    if (out.length < max) out.push(d);
    else truncated = true;
  };

  const walk = async (x: ElemDesc, y: ElemDesc, path: string): Promise<void> => {
    if (out.length >= max) {
      truncated = true;
      return;
    }
    const ex = `${x.spec.encodingType} ${x.spec.encodingVersion}`;
    const ey = `${y.spec.encodingType} ${y.spec.encodingVersion}`;
    // the same encoding in another version (dataframe 0.1.0 / 0.2.0) holds comparable content
    if (x.spec.encodingType !== y.spec.encodingType || x.kind !== y.kind) {
      report({ path, what: 'encoding', message: `encoding ${ex} vs ${ey}`, a: ex, b: ey });
      return;
    }
    if (CONTAINERS.has(x.kind)) {
      // a container's shape follows from its children, whose differences say more
      for (const [ka, kb, p] of pairChildren(x, y, path, report)) await walk(x.children[ka], y.children[kb], p);
      return;
    }
    if (!sameShape(x.shape, y.shape)) {
      const [sa, sb] = [formatShape(x.shape), formatShape(y.shape)];
      report({ path, what: 'shape', message: `shape ${sa} vs ${sb}`, a: sa, b: sb });
      return;
    }
    if (x.dtype !== y.dtype) {
      report({ path, what: 'dtype', message: `dtype ${x.dtype} vs ${y.dtype}`, a: `${x.dtype}`, b: `${y.dtype}` });
      return;
    }
    const [va, vb] = await Promise.all([
      materializeLeaf({ desc: x, ctx: a.ctx }),
      materializeLeaf({ desc: y, ctx: b.ctx }),
    ]);
    compared++;
    const found = diffValues(va, vb, '', x.shape);
    if (found !== null) report({ path, ...found });
  };

  await walk(a.desc, b.desc, a.desc.path === '' ? '/' : `/${a.desc.path}`);
  return { equal: out.length === 0, differences: out, compared, truncated };
}

/** The whole value of a leaf element. The one read of the comparison. */
function materializeLeaf(s: Side): Promise<unknown> {
  return s.ctx.materialize(s.desc);
}

function sameShape(a: readonly number[] | null, b: readonly number[] | null): boolean {
  return a === b || (a !== null && b !== null && a.length === b.length && a.every((n, i) => n === b[i]));
}

/**
 * The children to compare, as (key in a, key in b, path): common keys in a's order, reporting
 * keys only one side has. Dataframes pair their indexes whatever the index key, and compare
 * column order.
 */
function pairChildren(
  x: ElemDesc,
  y: ElemDesc,
  path: string,
  report: (d: Difference) => void,
): [string, string, string][] {
  const at = (k: string) => (path === '/' ? `/${k}` : `${path}/${k}`);
  const pairs: [string, string, string][] = [];
  let ka = Object.keys(x.children);
  let kb = Object.keys(y.children);
  if (x.kind === 'dataframe') {
    const ia = x.extra.indexKey as string;
    const ib = y.extra.indexKey as string;
    pairs.push([ia, ib, at(ia)]);
    ka = x.extra.order as string[];
    kb = y.extra.order as string[];
    const common = ka.filter((k) => kb.includes(k));
    const commonB = kb.filter((k) => ka.includes(k));
    if (common.join('\0') !== commonB.join('\0')) {
      report({
        path,
        what: 'columns',
        message: `column order ${common.join(', ')} vs ${commonB.join(', ')}`,
        a: common.join(', '),
        b: commonB.join(', '),
      });
    }
    if (ia !== ib) {
      report({ path, what: 'columns', message: `index name '${ia}' vs '${ib}'`, a: ia, b: ib });
    }
  }
  for (const k of ka) {
    if (kb.includes(k)) pairs.push([k, k, at(k)]);
    else report({ path: at(k), what: 'missing', message: 'only in a (missing in b)', a: 'present', b: 'missing' });
  }
  for (const k of kb) {
    if (!ka.includes(k))
      report({ path: at(k), what: 'missing', message: 'only in b (missing in a)', a: 'missing', b: 'present' });
  }
  return pairs;
}

type Found = Omit<Difference, 'path'>;

type Typed = Exclude<ArrayBufferView, DataView>;

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function isFloat(v: Typed): boolean {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/** Equal as values: NaN equals NaN, an int32 and an int64 holding the same number are equal. */
function sameScalar(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x === 'number' && typeof y === 'number') return Number.isNaN(x) && Number.isNaN(y);
  const bx = asBigInt(x);
  return bx !== null && bx === asBigInt(y);
}

function asBigInt(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : null;
}

/** Same element type and the same bytes: equal without a per-value loop. */
function sameBytes(a: Typed, b: Typed): boolean {
  if (a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return String(v);
}

/** Element `i` of `xs`; float32 values in their shortest float32 spelling (0.1, not 0.10000000149011612). */
function showAt(xs: ArrayLike<unknown>, i: number): string {
  const v = xs[i];
  if (xs instanceof Float32Array && Number.isFinite(v)) {
    for (let p = 1; p <= 9; p++) {
      const s = (v as number).toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
  }
  return show(v);
}

/** Row-major position of flat index `i` in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = shape[d] === 0 ? 0 : r % shape[d];
    r = Math.floor(r / (shape[d] || 1));
  }
  return idx;
}

/** The first difference between two materialized values (and how many values differ), or null. */
export function diffValues(a: unknown, b: unknown, part: string, shape: readonly number[] | null): Found | null {
  const where = (p: string) => (p === '' ? {} : { part: p });
  if (isTyped(a) || isTyped(b) || Array.isArray(a) || Array.isArray(b)) {
    if (!(isTyped(a) || Array.isArray(a)) || !(isTyped(b) || Array.isArray(b))) {
      return { ...where(part), what: 'value', message: `${show(a)} vs ${show(b)}`, a: show(a), b: show(b) };
    }
    if (isTyped(a) && isTyped(b) && isFloat(a) !== isFloat(b)) {
      const [ta, tb] = [a.constructor.name, b.constructor.name];
      return { ...where(part), what: 'dtype', message: `${part || 'values'}: ${ta} vs ${tb}`, a: ta, b: tb };
    }
    if (isTyped(a) && isTyped(b) && sameBytes(a, b)) return null;
    const xs = a as ArrayLike<unknown>;
    const ys = b as ArrayLike<unknown>;
    if (xs.length !== ys.length) {
      return {
        ...where(part),
        what: 'shape',
        message: `${part || 'values'}: ${xs.length} vs ${ys.length} values`,
        a: String(xs.length),
        b: String(ys.length),
      };
    }
    let first = -1;
    let count = 0;
    let nested: Found | null = null;
    for (let i = 0; i < xs.length; i++) {
      const [x, y] = [xs[i], ys[i]];
      const objects = typeof x === 'object' && x !== null && typeof y === 'object' && y !== null;
      const d = objects ? diffValues(x, y, `${part}[${i}]`, null) : sameScalar(x, y) ? null : ({} as Found);
      if (d === null) continue;
      count++;
      if (first < 0) {
        first = i;
        nested = objects ? d : null;
      }
    }
    if (first < 0) return null;
    if (nested !== null) return nested;
    const index =
      shape !== null && shape.length > 1 && xs.length === shape.reduce((p, n) => p * n, 1)
        ? unravel(first, shape)
        : [first];
    const [va, vb] = [showAt(xs, first), showAt(ys, first)];
    const label = part === '' ? '' : `${part} `;
    return {
      ...where(part),
      what: 'value',
      message: `${count} value${count === 1 ? ' differs' : 's differ'}; first at ${label}[${index.join(', ')}]: ${va} vs ${vb}`,
      index,
      a: va,
      b: vb,
      count,
    };
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    if (a.constructor !== b.constructor) {
      return { ...where(part), what: 'value', message: `${show(a)} vs ${show(b)}`, a: show(a), b: show(b) };
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    // a dense value's shape decides how its data is indexed
    const ownShape = Array.isArray(ra.shape) && isTyped(ra.data) ? (ra.shape as number[]) : shape;
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
    if (keys.includes('shape')) keys.unshift(...keys.splice(keys.indexOf('shape'), 1));
    for (const k of keys) {
      // a dense array's or column's data is the element itself; a sparse matrix names its parts
      const sub = k === 'data' && !('indptr' in ra) ? part : part === '' ? k : `${part}.${k}`;
      const d = diffValues(ra[k], rb[k], sub, k === 'data' || k === 'values' ? ownShape : null);
      if (d !== null) return k === 'shape' && d.what === 'value' ? { ...d, what: 'shape' } : d;
    }
    return null;
  }
  if (sameScalar(a, b)) return null;
  return {
    ...where(part),
    what: 'value',
    message: `${part ? `${part}: ` : ''}${show(a)} vs ${show(b)}`,
    a: show(a),
    b: show(b),
  };
}
