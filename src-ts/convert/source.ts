// What a conversion reads: the node tree of an AnnData input (an .h5ad file or any zarr store,
// v2 or v3) and a native row copy from each of its arrays. h5ad and zarr AnnData share one
// layout (groups, arrays, the same encoding attributes), so the converter copies the tree.

import type { CallOptions } from '../zarr/abort.js';
import { withSignal } from '../zarr/abort.js';
import { arrayHandle, type RecordValue, type ZArray } from '../zarr/array.js';
import type { DataType, NumpyDtypeSpec } from '../zarr/dtype.js';
import { callSync, isZarrsError, zarrsError } from '../zarr/errors.js';
import { type Group, openGroup } from '../zarr/group.js';
import type { NativeH5ad, NativeProgress } from '../zarr/native.js';
import { native } from '../zarr/native.js';
import { openStore, type Store } from '../zarr/store.js';

/** One group or array of the input. Paths are relative to the root, `''` being the root. */
export interface SourceNode {
  path: string;
  kind: 'group' | 'array';
  attributes: Record<string, unknown>;
  /** Arrays. */
  shape?: number[];
  /** Arrays: the element type; `'record'` for record (compound / structured) arrays. */
  dtype?: DataType;
  /** Why the attributes could not be read (HDF5 object references), if so. */
  unreadable?: string;
  /** Arrays of numpy-only types (fixed-length strings, times, records) from zarr inputs. */
  numpyDtype?: NumpyDtypeSpec;
  /** Arrays: where the input holds it, when that is not `path` (a legacy layout rewritten by
   * `upgradeLegacyTree`, e.g. `obs/__categories/cell_type` -> `obs/cell_type/categories`). */
  source?: string;
}

/** Counts of one copy call. */
export interface CopyStats {
  written: number;
  skipped: number;
}

export interface CopyOptions extends CallOptions {
  skipComplete: boolean;
  progress: NativeProgress;
}

/** An opened input. */
export interface ConversionSource {
  /** Where it is, for messages and the conversion plan. */
  readonly location: string;
  readonly format: 'h5ad' | 'zarr';
  nodes(): Promise<SourceNode[]>;
  /** Copy row blocks (`[start, stop]` pairs aligned to `dst`'s shards) of `node` into `dst`. */
  copy(node: SourceNode, dst: ZArray, blocks: number[], opts: CopyOptions): Promise<CopyStats>;
  /** A record array, whole (record arrays are small `uns` tables), with its numpy dtype. */
  records(node: SourceNode, opts?: CallOptions): Promise<SourceRecords>;
}

/** The fields of a record array and the numpy dtype its copy takes. */
export interface SourceRecords {
  numpyDtype: [string, string][];
  fields: RecordValue[];
}

const join = (parent: string, name: string) => (parent === '' ? name : `${parent}/${name}`);

class H5adInput implements ConversionSource {
  readonly format = 'h5ad' as const;
  constructor(
    readonly location: string,
    private readonly file: NativeH5ad,
  ) {}

  async nodes(): Promise<SourceNode[]> {
    const described = await withSignal(undefined, () => this.file.describe());
    return described.map((n) => {
      const path = n.path.replace(/^\/+/, '');
      const node: SourceNode = { path, kind: n.kind === 'group' ? 'group' : 'array', attributes: n.attributes };
      if (n.unreadable) node.unreadable = n.unreadable;
      if (n.shape) node.shape = n.shape;
      if (n.kind === 'array') node.dtype = (n.dtype ?? 'record') as DataType;
      return node;
    });
  }

  async records(node: SourceNode): Promise<SourceRecords> {
    const r = await withSignal(undefined, () => this.file.readRecords(`/${node.path}`));
    return {
      numpyDtype: r.numpyDtype.map(([name, dtype]) => [name, dtype] as [string, string]),
      fields: r.records.fields.map((f) => ({ name: f.name, data: f.data as RecordValue['data'] })),
    };
  }

  copy(node: SourceNode, dst: ZArray, blocks: number[], opts: CopyOptions): Promise<CopyStats> {
    return withSignal(opts.signal, (c) =>
      native.copyH5adRows(
        this.file,
        `/${node.path}`,
        arrayHandle(dst),
        Float64Array.from(blocks),
        opts.skipComplete,
        opts.progress,
        c,
      ),
    );
  }
}

class ZarrInput implements ConversionSource {
  readonly format = 'zarr' as const;
  readonly #arrays = new Map<string, ZArray>();
  constructor(
    readonly location: string,
    private readonly root: Group,
  ) {}

  async nodes(): Promise<SourceNode[]> {
    const out: SourceNode[] = [];
    const walk = async (g: Group, path: string): Promise<void> => {
      out.push({ path, kind: 'group', attributes: g.attrs });
      const members = [...(await g.members())].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const m of members) {
        const p = join(path, m.name);
        if (m.kind === 'group') {
          await walk(await g.openGroup(m.name), p);
        } else {
          const a = await g.openArray(m.name);
          this.#arrays.set(p, a);
          const node: SourceNode = { path: p, kind: 'array', attributes: a.attrs, shape: a.shape, dtype: a.dtype };
          const np = a.numpyDtype;
          if (a.dtype === 'record' && np?.fields) {
            node.numpyDtype = np.fields.map((f) => [f.name, f.element.numpyDtype] as [string, string]);
          } else if (np?.element && ['string', 'bytes', 'datetime64', 'timedelta64'].includes(a.dtype)) {
            node.numpyDtype = np.element.numpyDtype;
          }
          out.push(node);
        }
      }
    };
    await walk(this.root, '');
    return out;
  }

  async records(node: SourceNode, opts: CallOptions = {}): Promise<SourceRecords> {
    const a = await this.zarrArray(node);
    const rec = await a.getRecords(null, opts);
    return {
      numpyDtype: (a.numpyDtype?.fields ?? []).map((f) => [f.name, f.element.numpyDtype] as [string, string]),
      fields: rec.fields.map((f) => ({ name: f.name, data: f.data })),
    };
  }

  private async zarrArray(node: SourceNode): Promise<ZArray> {
    const a = this.#arrays.get(node.path);
    if (a === undefined) throw zarrsError('NotFound', `${this.location}: no array '${node.path}'`, node.path);
    return a;
  }

  async copy(node: SourceNode, dst: ZArray, blocks: number[], opts: CopyOptions): Promise<CopyStats> {
    const src = await this.zarrArray(node);
    return withSignal(opts.signal, (c) =>
      native.copyZarrRows(
        arrayHandle(src),
        arrayHandle(dst),
        Float64Array.from(blocks),
        opts.skipComplete,
        opts.progress,
        c,
      ),
    );
  }
}

/** Whether `location` names an h5ad (HDF5) file: by extension, else by the HDF5 signature. */
export function isH5adLocation(location: string): boolean {
  return /\.(h5ad|h5|hdf5)$/i.test(location);
}

/** Open an input: an .h5ad path, or any zarr store location (path, URL, .zip). */
export async function openSource(location: string): Promise<ConversionSource> {
  if (isH5adLocation(location)) {
    const file = callSync(() => native.NativeH5Ad.open(location));
    return new H5adInput(location, file);
  }
  const store: Store = await openStore(location, { readOnly: true });
  try {
    return new ZarrInput(location, await openGroup(store, ''));
  } catch (e) {
    if (isZarrsError(e) && e.code === 'NotFound') {
      throw zarrsError('NotFound', `'${location}': no AnnData zarr store or .h5ad file there`, location, e);
    }
    throw e;
  }
}
