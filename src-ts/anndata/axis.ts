// Selections of one axis (obs or var) of an element: checked against the axis length once,
// normalised (all, a step range, or explicit positions), composed for views of views, and turned
// into the registry's ElemSelection entries. Shared by the encodings and the lazy reader.

import { InvalidSelectionError, isZarrsError, OutOfBoundsError, zarrsError } from '../zarr/errors.js';
import { type Slice, slice } from '../zarr/selection.js';
import { type AxisSelection, elemPath } from './registry.js';

/** What users pass for one axis: an AxisSelection, or one integer (kept as a length-1 axis). */
export type LazySelection = AxisSelection | number;

/** A checked selection of an axis of length `n`, with `length` selected positions. */
export type AxisSel =
  | { readonly kind: 'all'; readonly n: number; readonly length: number }
  | { readonly kind: 'range'; readonly start: number; readonly step: number; readonly length: number }
  /** Positions in output order: unsorted and repeated positions are kept as asked. */
  | { readonly kind: 'points'; readonly points: Int32Array; readonly length: number };

export const allOf = (n: number): AxisSel => ({ kind: 'all', n, length: n });

const isSlice = (s: unknown): s is Slice =>
  typeof s === 'object' && s !== null && (s as { kind?: unknown }).kind === 'slice';
const isMaskObj = (s: unknown): s is { kind: 'mask'; mask: Uint8Array } =>
  typeof s === 'object' && s !== null && (s as { kind?: unknown }).kind === 'mask';

/** Where a selection applies, for errors: the element's path and the axis' name. */
export interface AxisOf {
  path: string;
  axis: string;
}

/**
 * Check `sel` against an axis of length `n` and normalise it; errors name the element and axis
 * ("'/X' obs: index 12 is out of range for length 10"). Integers may be negative (from the
 * end); slices follow Python.
 */
export function checkAxis(sel: LazySelection | undefined, n: number, of: AxisOf): AxisSel {
  try {
    return normalise(sel, n, `'${elemPath(of.path)}' ${of.axis}`);
  } catch (e) {
    throw isZarrsError(e) ? zarrsError(e.code, e.message, of.path) : e;
  }
}

function normalise(sel: LazySelection | undefined, n: number, what: string): AxisSel {
  if (sel === null || sel === undefined) return allOf(n);
  if (typeof sel === 'number') return points(Int32Array.of(position(sel, n, what, 0)));
  if (isSlice(sel)) return checkSlice(sel, n, what);
  if (isMaskObj(sel)) return fromMask(sel.mask, n, what);
  if (Array.isArray(sel) && sel.length > 0 && typeof sel[0] === 'boolean') {
    return fromMask(
      Uint8Array.from(sel as boolean[], (b) => (b ? 1 : 0)),
      n,
      what,
    );
  }
  if (Array.isArray(sel) || ArrayBuffer.isView(sel)) {
    const src = sel as ArrayLike<number | boolean>;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = position(src[i], n, what, i);
    return points(out);
  }
  throw new InvalidSelectionError(
    'InvalidSelection',
    `${what}: a selection is null, an integer, slice(), integer positions or a boolean mask, not ${String(sel)}`,
  );
}

function points(p: Int32Array): AxisSel {
  return { kind: 'points', points: p, length: p.length };
}

function position(v: unknown, n: number, what: string, at: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new InvalidSelectionError(
      'InvalidSelection',
      `${what}: position ${at} of the selection is ${String(v)}, not an integer`,
    );
  }
  if (v < -n || v >= n) {
    throw new OutOfBoundsError('OutOfBounds', `${what}: index ${v} is out of range for length ${n}`);
  }
  return v < 0 ? v + n : v;
}

function fromMask(m: Uint8Array, n: number, what: string): AxisSel {
  if (m.length !== n) {
    throw new InvalidSelectionError('InvalidSelection', `${what}: a mask of length ${m.length} for length ${n}`);
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (m[i]) k++;
  const out = new Int32Array(k);
  k = 0;
  for (let i = 0; i < n; i++) if (m[i]) out[k++] = i;
  return points(out);
}

function checkSlice(s: Slice, n: number, what: string): AxisSel {
  for (const [name, v] of [
    ['start', s.start],
    ['stop', s.stop],
    ['step', s.step],
  ] as const) {
    if (v !== null && v !== undefined && !Number.isInteger(v)) {
      throw new InvalidSelectionError('InvalidSelection', `${what}: slice ${name} ${v} is not an integer`);
    }
  }
  const step = s.step ?? 1;
  if (step <= 0)
    throw new InvalidSelectionError('InvalidSelection', `${what}: slice step must be positive, got ${step}`);
  const clamp = (v: number | null, dflt: number) => (v === null ? dflt : Math.min(n, Math.max(0, v < 0 ? v + n : v)));
  const start = clamp(s.start, 0);
  const stop = Math.max(start, clamp(s.stop, n));
  const length = Math.ceil((stop - start) / step);
  if (start === 0 && step === 1 && length === n) return allOf(n);
  return { kind: 'range', start, step, length };
}

/** The position in the underlying axis of selected position `i`. */
function at(s: AxisSel, i: number): number {
  if (s.kind === 'all') return i;
  if (s.kind === 'range') return s.start + i * s.step;
  return s.points[i];
}

/** `inner` (a selection of what `outer` selected) as a selection of the underlying axis. */
export function compose(outer: AxisSel, inner: AxisSel): AxisSel {
  if (outer.kind === 'all') return inner;
  if (inner.kind === 'all') return outer;
  if (outer.kind === 'range' && inner.kind === 'range') {
    return { kind: 'range', start: at(outer, inner.start), step: outer.step * inner.step, length: inner.length };
  }
  const out = new Int32Array(inner.length);
  for (let i = 0; i < inner.length; i++) out[i] = at(outer, at(inner, i));
  return { kind: 'points', points: out, length: inner.length };
}

/** The selected positions as an Int32Array (what a gather takes). */
export function positions(s: AxisSel): Int32Array {
  if (s.kind === 'points') return s.points;
  const out = new Int32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = at(s, i);
  return out;
}

/** The registry's form of one axis: null (all), a slice, or positions. */
export function toElemAxis(s: AxisSel): AxisSelection {
  if (s.kind === 'all') return null;
  // the stop right after the last position, so that it never passes the axis end
  if (s.kind === 'range') return slice(s.start, s.length === 0 ? s.start : at(s, s.length - 1) + 1, s.step);
  return s.points;
}

/** Pick the selected entries of an in-memory list (e.g. obs names). */
export function pickList<T>(values: readonly T[], s: AxisSel): T[] {
  if (s.kind === 'all') return [...values];
  const out = new Array<T>(s.length);
  for (let i = 0; i < s.length; i++) out[i] = values[at(s, i)];
  return out;
}
