// The AnnData object: X, obs/var frames, the aligned mappings, uns and raw. Construction checks
// nothing (so partial objects can be built step by step); `validate()` checks every alignment and
// runs before any write.

import { InvalidInputError } from '../zarr/errors.js';
import { DataFrame } from './dataframe.js';
import { isDense, isSparse, type Matrix } from './elems.js';

export type AlignedElem = Matrix | DataFrame | import('./elems.js').AwkwardArray;

export interface Raw {
  X: Matrix;
  var: DataFrame;
  varm: Record<string, AlignedElem>;
}

export interface AnnDataInit {
  X?: Matrix | null;
  obs?: DataFrame;
  var?: DataFrame;
  obsm?: Record<string, AlignedElem>;
  varm?: Record<string, AlignedElem>;
  obsp?: Record<string, Matrix>;
  varp?: Record<string, Matrix>;
  layers?: Record<string, Matrix>;
  uns?: Record<string, unknown>;
  raw?: Raw | null;
}

const namespaces = new Map<string, new (adata: AnnData) => unknown>();

export class AnnData {
  X: Matrix | null;
  obs: DataFrame;
  var: DataFrame;
  obsm: Record<string, AlignedElem>;
  varm: Record<string, AlignedElem>;
  obsp: Record<string, Matrix>;
  varp: Record<string, Matrix>;
  layers: Record<string, Matrix>;
  uns: Record<string, unknown>;
  raw: Raw | null;

  constructor(init: AnnDataInit = {}) {
    this.X = init.X ?? null;
    const shape = this.X ? this.X.shape : undefined;
    this.obs = init.obs ?? new DataFrame({ nRows: shape?.[0] ?? 0 });
    this.var = init.var ?? new DataFrame({ nRows: shape?.[1] ?? 0 });
    this.obsm = init.obsm ?? {};
    this.varm = init.varm ?? {};
    this.obsp = init.obsp ?? {};
    this.varp = init.varp ?? {};
    this.layers = init.layers ?? {};
    this.uns = init.uns ?? {};
    this.raw = init.raw ?? null;
    for (const [name, cls] of namespaces) {
      Object.defineProperty(this, name, { value: new cls(this), enumerable: false, configurable: true });
    }
  }

  get nObs(): number {
    return this.obs.nRows;
  }
  get nVars(): number {
    return this.var.nRows;
  }
  get shape(): [number, number] {
    return [this.nObs, this.nVars];
  }
  get obsNames(): string[] {
    return this.obs.indexValues;
  }
  get varNames(): string[] {
    return this.var.indexValues;
  }

  /** Check that every element is aligned with obs/var; throws InvalidInput naming the element. */
  validate(): void {
    const [n, m] = this.shape;
    const check = (path: string, e: unknown, want: [number | null, number | null], twoD: boolean) => {
      const s = shapeOf(e, path);
      if (twoD && s.length !== 2) fail(path, `must be 2-D, has shape [${s.join(', ')}]`);
      want.forEach((w, axis) => {
        if (w !== null && s[axis] !== w) {
          fail(path, `has ${s[axis]} ${axis === 0 ? 'rows' : 'columns'}, expected ${w} (${axisName(path, axis)})`);
        }
      });
    };
    if (this.X) check('X', this.X, [n, m], true);
    for (const [k, v] of Object.entries(this.layers)) check(`layers/${k}`, v, [n, m], true);
    for (const [k, v] of Object.entries(this.obsm)) check(`obsm/${k}`, v, [n, null], false);
    for (const [k, v] of Object.entries(this.varm)) check(`varm/${k}`, v, [m, null], false);
    for (const [k, v] of Object.entries(this.obsp)) check(`obsp/${k}`, v, [n, n], true);
    for (const [k, v] of Object.entries(this.varp)) check(`varp/${k}`, v, [m, m], true);
    if (this.raw) {
      check('raw/X', this.raw.X, [n, this.raw.var.nRows], true);
      for (const [k, v] of Object.entries(this.raw.varm)) check(`raw/varm/${k}`, v, [this.raw.var.nRows, null], false);
    }
  }
}

function axisName(path: string, axis: number): string {
  if (path.startsWith('raw/')) return axis === 0 ? 'obs' : 'raw.var';
  if (path.startsWith('varm/') || path.startsWith('varp/')) return 'var';
  return axis === 0 ? 'obs' : 'var';
}

function fail(path: string, msg: string): never {
  throw new InvalidInputError('InvalidInput', `'/${path}' ${msg}`, { key: path });
}

function shapeOf(e: unknown, path: string): number[] {
  if (e instanceof DataFrame) return [e.nRows];
  if (isSparse(e) || isDense(e)) return e.shape;
  if (typeof e === 'object' && e !== null && 'length' in e && 'form' in e) return [(e as { length: number }).length];
  fail(path, 'is not a matrix, dataframe or awkward array');
}

/**
 * Attach `cls` to every AnnData created afterwards as the property `name`, like python's
 * `anndata.register_anndata_namespace` (`adata.<name>` is `new cls(adata)`).
 */
export function registerAnnDataNamespace(name: string, cls: new (adata: AnnData) => unknown): void {
  if (!/^[A-Za-z_$][\w$]*$/.test(name) || name in AnnData.prototype || RESERVED.has(name)) {
    throw new InvalidInputError('InvalidInput', `cannot register namespace '${name}': it is not a free identifier`, {
      key: name,
    });
  }
  namespaces.set(name, cls);
}

const RESERVED = new Set(['X', 'obs', 'var', 'obsm', 'varm', 'obsp', 'varp', 'layers', 'uns', 'raw']);
