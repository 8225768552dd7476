// The conversion plan: every output group and array (metadata, chunk and shard shapes from the
// writer's sharding policy) cut into units of whole shard rows. A plan is a pure function of
// the input's node tree and the layout options (not of the machine: no thread count), so every
// part of a partitioned run computes the same plan and the same unit -> part assignment without
// talking to the others.

import { type ArrayRole, defaultCompressor, layoutFor } from '../anndata/layout.js';
import type { CodecSpec, CreateArrayOptions } from '../zarr/array.js';
import { itemSize } from '../zarr/dtype.js';
import { zarrsError } from '../zarr/errors.js';
import { isLegacyTree, upgradeHint, upgradeLegacyTree } from './legacy.js';
import type { SourceNode } from './source.js';

const MiB = 1024 * 1024;
/** The default uncompressed shard size (the writer's). */
export const DEFAULT_SHARD_BYTES = 64 * MiB;

/** Options that shape the output (and so the plan). */
export interface LayoutOptions {
  /** Output format (default 3: sharded). */
  zarrFormat?: 2 | 3;
  /** Target uncompressed shard size in bytes (default 64 MiB). */
  shardBytes?: number;
  /** Target uncompressed inner chunk size in bytes (default 1 MiB; sparse data a quarter). */
  chunkBytes?: number;
  /** Compressor of every array, null for none (default: zstd level 3; blosc-zstd with byte
   * shuffle for integers wider than a byte). */
  compressor?: CodecSpec | null;
  /** Element paths to leave out (`uns/rank_genes_groups`); their subtrees go too. */
  exclude?: string[];
}

/** One output array. */
export interface PlannedArray {
  path: string;
  /** The input array it is copied from, when that is not `path` (rewritten legacy layouts). */
  source?: string;
  create: CreateArrayOptions;
  /** Rows (first dimension; 1 for a scalar). */
  rows: number;
  /** Rows per unit: one shard row (the whole array for scalars, strings and records). */
  unitRows: number;
  /** Units (`ceil(rows / unitRows)`; 0 for an empty array). */
  units: number;
  /** Copied element-wise (record arrays) rather than by the native row copy. */
  elementWise: boolean;
  /** Uncompressed bytes (strings estimated), for progress. */
  bytes: number;
}

export interface Plan {
  /** Bumped when the plan's meaning changes; a store planned by another version is refused. */
  version: 1;
  input: string;
  zarrFormat: 2 | 3;
  /** Groups, the root (`''`) first. */
  groups: { path: string; attributes: Record<string, unknown> }[];
  arrays: PlannedArray[];
}

/** What a string element costs on average, for sizing blocks of string arrays. */
const STRING_BYTES = 16;

function roleOf(node: SourceNode, parents: Map<string, SourceNode>): ArrayRole {
  const at = node.path.lastIndexOf('/');
  const parent = parents.get(at < 0 ? '' : node.path.slice(0, at));
  const enc = parent?.attributes['encoding-type'];
  const name = node.path.slice(at + 1);
  if (enc === 'csr_matrix' || enc === 'csc_matrix') return name === 'indptr' ? 'indptr' : 'sparse';
  return (node.shape?.length ?? 0) >= 2 ? 'dense' : 'column';
}

function excluded(path: string, exclude: readonly string[]): boolean {
  return exclude.some((e) => {
    const p = e.replace(/^\/+|\/+$/g, '');
    return path === p || path.startsWith(`${p}/`);
  });
}

/** Plan the conversion of `nodes` (the input's tree, root first) with `opts`. */
export function planConversion(input: string, inputNodes: SourceNode[], opts: LayoutOptions): Plan {
  // anndata < 0.8 layouts are planned as the tree current anndata writes for the same data
  const nodes = isLegacyTree(inputNodes) ? upgradeLegacyTree(input, inputNodes) : inputNodes;
  const zarrFormat = opts.zarrFormat ?? 3;
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const chunkBytes = opts.chunkBytes ?? MiB;
  const exclude = opts.exclude ?? [];
  const byPath = new Map(nodes.map((n) => [n.path, n]));
  for (const e of exclude) {
    const p = e.replace(/^\/+|\/+$/g, '');
    if (!byPath.has(p) || p === '')
      throw zarrsError('InvalidInput', `--exclude '${e}': the input has no element there`, e);
    const parent = byPath.get(p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
    const enc = parent?.attributes['encoding-type'];
    if (enc !== 'dict' && enc !== 'anndata' && enc !== 'raw') {
      // A part of an encoded element (a dataframe column, a matrix's indptr) would leave the
      // element unreadable; only whole elements of dict-like groups can be left out.
      throw zarrsError(
        'InvalidInput',
        `--exclude '${e}': it is part of the ${String(enc)} element '${parent?.path}'; exclude that whole element instead`,
        e,
      );
    }
  }
  const root = byPath.get('');
  if (root?.attributes['encoding-type'] !== 'anndata') {
    throw zarrsError(
      'Unsupported',
      `${input}: no AnnData encoding metadata at the root and no X, obs or var (not AnnData?); ` +
        `if python anndata reads it, ${upgradeHint(input)}`,
      input,
    );
  }
  const unreadable = nodes.find((n) => n.unreadable !== undefined && !excluded(n.path, exclude));
  if (unreadable) {
    throw zarrsError(
      'Unsupported',
      `${input}: '${unreadable.path}' has attributes the converter cannot read (${unreadable.unreadable}); ` +
        `leave it out with --exclude, or ${upgradeHint(input)}`,
      unreadable.path,
    );
  }
  const plan: Plan = { version: 1, input, zarrFormat, groups: [], arrays: [] };
  for (const node of nodes) {
    if (excluded(node.path, exclude)) continue;
    if (node.kind === 'group') {
      plan.groups.push({ path: node.path, attributes: node.attributes });
      continue;
    }
    // anndata's None (`encoding-type: null`): an HDF5 null dataspace in h5ad, a 0-d bool array
    // without data in zarr, as python writes it.
    const isNull = node.attributes['encoding-type'] === 'null';
    const shape = isNull ? [] : (node.shape ?? []);
    const dtype = isNull ? 'bool' : (node.dtype ?? 'record');
    const role = roleOf(node, byPath);
    const layout = layoutFor(
      role,
      shape,
      dtype,
      { zarrFormat, shards: zarrFormat === 3 ? { shardBytes, chunkBytes } : false },
      {},
    );
    const create: CreateArrayOptions = {
      shape,
      dtype,
      chunks: layout.chunks,
      ...(layout.shards ? { shards: layout.shards } : {}),
      compressors: opts.compressor === undefined ? defaultCompressor(dtype) : opts.compressor,
      attributes: node.attributes,
      zarrFormat,
    };
    if (node.numpyDtype !== undefined) create.numpyDtype = node.numpyDtype;
    const rows = shape.length === 0 ? 1 : shape[0];
    const item = itemSize(dtype) ?? STRING_BYTES;
    const rowBytes = shape.slice(1).reduce((a, b) => a * b, item);
    const elementWise = dtype === 'record';
    // Scalars, records and strings (read whole by the h5ad source) are a single unit.
    const whole = shape.length === 0 || elementWise || dtype === 'string';
    const unitRows = Math.max(1, whole ? rows : (layout.shards ?? layout.chunks)[0]);
    const units = rows === 0 || isNull ? 0 : Math.ceil(rows / unitRows);
    const from = node.source === undefined ? {} : { source: node.source };
    plan.arrays.push({ path: node.path, ...from, create, rows, unitRows, units, elementWise, bytes: rows * rowBytes });
  }
  if (plan.groups[0]?.path !== '') throw zarrsError('InvalidInput', `${input}: the input has no root group`);
  return plan;
}

/** The rows of `a` that part `index` of `count` writes: a contiguous run of whole units
 * (possibly empty). Array `i`'s runs are rotated by `i` so that single-unit arrays spread over
 * the parts instead of all landing on one. */
export function rowsOfPart(a: PlannedArray, arrayIndex: number, index: number, count: number): [number, number] | null {
  const piece = (((index - arrayIndex) % count) + count) % count;
  const u0 = Math.floor((piece * a.units) / count);
  const u1 = Math.floor(((piece + 1) * a.units) / count);
  if (u1 <= u0) return null;
  return [u0 * a.unitRows, Math.min(a.rows, u1 * a.unitRows)];
}

/**
 * Cut `rows` into blocks of whole units holding about one shard's bytes each. A shard encodes
 * its inner chunks on every thread, so one shard per block keeps the cores busy, and the copy
 * holds about three blocks at once (one read ahead, one being written, its encoded shards):
 * memory stays near 3 x shard size + a constant, whatever the thread count and the input.
 */
export function blocksOf(a: PlannedArray, rows: [number, number], shardBytes: number): number[] {
  const rowBytes = a.bytes / Math.max(1, a.rows);
  const unitsPerBlock = Math.max(1, Math.floor(shardBytes / Math.max(1, a.unitRows * rowBytes)));
  const step = a.unitRows * unitsPerBlock;
  const out: number[] = [];
  for (let r = rows[0]; r < rows[1]; r += step) out.push(r, Math.min(rows[1], r + step));
  return out;
}
