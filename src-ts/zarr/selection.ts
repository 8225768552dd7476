// Selections in the zarr-python / numpy style, and their native form.

import { InvalidSelectionError } from './errors.js';
import type { NativeDimSel } from './native.js';

/** A slice of one dimension (`start` inclusive, `stop` exclusive, positive `step`). */
export interface Slice {
  readonly kind: 'slice';
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

/**
 * `slice(stop)` or `slice(start, stop, step?)`, as in Python. Negative values count from the end;
 * `null` means the default.
 */
export function slice(start: number | null, stop?: number | null, step?: number | null): Slice {
  if (stop === undefined) return { kind: 'slice', start: null, stop: start, step: null };
  return { kind: 'slice', start, stop, step: step ?? null };
}

/** A boolean mask for one dimension of an orthogonal selection. */
export interface Mask {
  readonly kind: 'mask';
  readonly mask: Uint8Array;
}

/** Wrap a 0/1 byte array as a mask (plain `boolean[]` is also a mask). */
export function mask(values: Uint8Array | boolean[]): Mask {
  return { kind: 'mask', mask: values instanceof Uint8Array ? values : Uint8Array.from(values, (b) => (b ? 1 : 0)) };
}

/** Basic selection of one dimension: all (`null`), one index (drops the dimension), or a slice. */
export type BasicDim = null | number | Slice;
/** Basic selection: one entry per leading dimension; missing trailing entries mean all. */
export type BasicSelection = readonly BasicDim[] | null | undefined;

type IntArray =
  | readonly number[]
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float64Array;
/** Orthogonal selection of one dimension: basic, an integer list, or a boolean mask. */
export type OrthogonalDim = BasicDim | IntArray | readonly boolean[] | Mask;
export type OrthogonalSelection = readonly OrthogonalDim[];

function checkInt(v: number, what: string): number {
  if (!Number.isSafeInteger(v))
    throw new InvalidSelectionError('InvalidSelection', `${what} must be an integer, got ${v}`);
  return v;
}

function basicDim(d: BasicDim): NativeDimSel {
  if (d === null || d === undefined) return { kind: 'all' };
  if (typeof d === 'number') return { kind: 'index', index: checkInt(d, 'index') };
  if (typeof d === 'object' && d.kind === 'slice') {
    return {
      kind: 'slice',
      start: d.start === null ? undefined : checkInt(d.start, 'slice start'),
      stop: d.stop === null ? undefined : checkInt(d.stop, 'slice stop'),
      step: d.step === null ? undefined : checkInt(d.step, 'slice step'),
    };
  }
  throw new InvalidSelectionError(
    'InvalidSelection',
    `invalid selection entry ${String(d)} (use null, an integer or slice())`,
  );
}

/** Basic selection -> native form. */
export function toNativeBasic(sel: BasicSelection): NativeDimSel[] | null {
  if (sel === null || sel === undefined) return null;
  if (!Array.isArray(sel))
    throw new InvalidSelectionError('InvalidSelection', 'a selection is an array with one entry per dimension');
  return sel.map(basicDim);
}

/** Orthogonal selection -> native form. */
export function toNativeOrthogonal(sel: OrthogonalSelection): NativeDimSel[] {
  if (!Array.isArray(sel))
    throw new InvalidSelectionError('InvalidSelection', 'a selection is an array with one entry per dimension');
  return sel.map((d: OrthogonalDim) => {
    if (d !== null && typeof d === 'object' && 'kind' in d && d.kind === 'mask') return { kind: 'mask', mask: d.mask };
    if (Array.isArray(d) && d.length > 0 && typeof d[0] === 'boolean') {
      return { kind: 'mask', mask: Uint8Array.from(d as boolean[], (b) => (b ? 1 : 0)) };
    }
    if (Array.isArray(d) || ArrayBuffer.isView(d)) {
      return { kind: 'indices', indices: Float64Array.from(d as ArrayLike<number>) };
    }
    return basicDim(d as BasicDim);
  });
}
