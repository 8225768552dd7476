// `zarrs-node info <store>`: the element tree of an AnnData (from the registry's describe, so
// metadata only) or the groups and arrays of a plain zarr hierarchy, with each array's layout
// (chunks, shards, codecs) and its stored bytes (from a listing of its keys).

import type { Command } from 'commander';
import { annDataLayout, describeAnnData } from '../anndata/io.js';
import { type ElemDesc, type ElemKind, joinPath, undecodable } from '../anndata/registry.js';
import type { ZArray } from '../zarr/array.js';
import type { ZarrsError } from '../zarr/errors.js';
import type { Group } from '../zarr/group.js';
import { openRoot } from './inputs.js';
import { EXIT_OK, formatBytes, formatShape, type OutputOptions, printResult, runCommand } from './output.js';

/** One array's layout and size. */
export interface InfoArray {
  path: string;
  shape: number[];
  dtype: string;
  /** Inner chunk shape (the chunk shape when unsharded). */
  chunks: number[];
  /** Shard shape, or null when unsharded. */
  shards: number[] | null;
  /** The codec chain in CodecSpec spelling (`zstd:3`, `blosc:lz4:5:shuffle`); sharded: the inner chain. */
  codecs: string[];
  /** The codec metadata as stored (v3 `codecs`, v2 `{ filters, compressor }`). */
  codecMetadata: unknown;
  /** Bytes of every key of the array, metadata included (null: the store cannot list keys, as plain HTTP). */
  storedBytes: number | null;
  /** Decoded size (null for variable-length strings and bytes, and where storedBytes is null). */
  decodedBytes: number | null;
  /** storedBytes / decodedBytes. */
  ratio: number | null;
  /** Stored chunks (or shards), and how many the grid has (null where storedBytes is null). */
  chunksInitialized: number | null;
  chunksTotal: number | null;
}

/** An element (AnnData) or node (plain zarr) of the tree. */
export interface InfoNode {
  name: string;
  /** '/obs/cell_type' */
  path: string;
  /** What the element is; plain zarr hierarchies have 'group' and 'array'. */
  kind: ElemKind | 'group' | 'array';
  /** Encoding type and version (null in plain zarr hierarchies and unencoded raw elements). */
  encoding: { type: string; version: string } | null;
  shape: number[] | null;
  dtype: string | null;
  /** The element's own array, when it is stored as one. */
  array: InfoArray | null;
  /** The arrays of an element stored as several (sparse data / indices / indptr, codes, values / mask). */
  parts: Record<string, InfoArray>;
  /** Sums over the element's arrays and its children's (null when one is unknown). */
  storedBytes: number | null;
  decodedBytes: number | null;
  /** stored / decoded over the arrays whose decoded size is known. */
  ratio: number | null;
  children: InfoNode[];
  /** Set on an array this library cannot open (plain zarr hierarchies): the error. */
  unopened?: { code: string; message: string };
}

export interface StoreInfo {
  store: string;
  zarrFormat: 2 | 3;
  consolidated: boolean;
  /** 'anndata', 'legacy' (AnnData from before encoding attributes) or 'zarr' (a plain hierarchy). */
  layout: 'anndata' | 'legacy' | 'zarr';
  root: InfoNode;
}

/** The info of the store at `location` (metadata and key listings only: no chunk is read). */
export async function storeInfo(location: string): Promise<StoreInfo> {
  const g = await openRoot(location);
  // plain HTTP has no listing: the tree shows without sizes
  const listable = !/^https?:\/\//i.test(location);
  const arrayInfo = (a: ZArray) => describeArray(a, listable);
  const found = await annDataLayout(g);
  let root: InfoNode;
  if (found.layout === null) {
    root = await zarrNode(g, '', arrayInfo);
  } else {
    // unknown encodings still show (as raw elements), so info works on any AnnData
    const { desc } = await describeAnnData(g, { fallback: 'raw' });
    const arrays = new Map<string, ZArray>();
    const walk = (d: ElemDesc): void => {
      for (const a of Object.values(d.arrays)) arrays.set(a.path, a);
      for (const c of Object.values(d.children)) walk(c);
    };
    walk(desc);
    const infos = await Promise.all([...arrays.values()].map(arrayInfo));
    root = elemNode(desc, '', new Map(infos.map((i) => [i.path, i])));
  }
  return {
    store: location,
    zarrFormat: g.zarrFormat,
    consolidated: g.consolidated,
    layout: found.layout ?? 'zarr',
    root,
  };
}

async function describeArray(a: ZArray, listable: boolean): Promise<InfoArray> {
  const i = listable
    ? await a.info()
    : { nbytesStored: null, nbytes: null, chunksInitialized: null, chunksTotal: null };
  return {
    path: a.path,
    shape: a.shape,
    dtype: a.dtype,
    chunks: a.chunks,
    shards: a.shards,
    codecs: codecNames(a.codecs, a.zarrFormat),
    codecMetadata: a.codecs,
    storedBytes: i.nbytesStored,
    decodedBytes: i.nbytes,
    ratio: ratio(i.nbytesStored, i.nbytes),
    chunksInitialized: i.chunksInitialized,
    chunksTotal: i.chunksTotal,
  };
}

function ratio(stored: number | null, decoded: number | null): number | null {
  return stored === null || decoded === null || decoded === 0 ? null : stored / decoded;
}

/**
 * Sizes of a node: sums over its arrays and its children's. The ratio is taken over the arrays
 * whose decoded size is known (variable-length strings have none), so a dataframe with a string
 * index still shows how well its numeric columns compress.
 */
function sizes(arrays: InfoArray[], children: InfoNode[]): Pick<InfoNode, 'storedBytes' | 'decodedBytes' | 'ratio'> {
  const all = [...arrays, ...children.flatMap(arraysBelow)];
  const known = all.filter((a) => a.decodedBytes !== null && a.storedBytes !== null);
  const sum = (xs: InfoArray[], f: (a: InfoArray) => number) => xs.reduce((t, a) => t + f(a), 0);
  return {
    // an array this library cannot open has no known size, so neither has what holds it
    storedBytes:
      all.some((a) => a.storedBytes === null) || children.some((c) => c.storedBytes === null)
        ? null
        : sum(all, (a) => a.storedBytes as number),
    decodedBytes: known.length === all.length ? sum(all, (a) => a.decodedBytes as number) : null,
    ratio: ratio(
      sum(known, (a) => a.storedBytes as number),
      known.length === 0 ? null : sum(known, (a) => a.decodedBytes as number),
    ),
  };
}

function arraysBelow(n: InfoNode): InfoArray[] {
  return [...(n.array ? [n.array] : []), ...Object.values(n.parts), ...n.children.flatMap(arraysBelow)];
}

function nameOf(path: string): string {
  return path === '' ? '/' : path.slice(path.lastIndexOf('/') + 1);
}

function elemNode(desc: ElemDesc, name: string, infos: Map<string, InfoArray>): InfoNode {
  const own = desc.arrays.self;
  const array = own === undefined ? null : (infos.get(own.path) ?? null);
  const parts = Object.fromEntries(
    Object.entries(desc.arrays)
      .filter(([k]) => k !== 'self')
      .map(([k, a]) => [k, infos.get(a.path) as InfoArray]),
  );
  const children = Object.entries(desc.children).map(([n, c]) => elemNode(c, n, infos));
  const spec = desc.spec;
  return {
    name: name === '' ? nameOf(desc.path) : name,
    path: `/${desc.path}`,
    kind: desc.kind,
    encoding: spec.encodingType === '' ? null : { type: spec.encodingType, version: spec.encodingVersion },
    shape: desc.shape === null ? null : [...desc.shape],
    dtype: desc.dtype,
    array,
    parts,
    ...sizes([...(array ? [array] : []), ...Object.values(parts)], children),
    children,
  };
}

/** A plain zarr hierarchy: groups and arrays as they are (arrays zarrs cannot open with the reason). */
async function zarrNode(g: Group, name: string, arrayInfo: (a: ZArray) => Promise<InfoArray>): Promise<InfoNode> {
  const members = await g.members();
  const children = await Promise.all(
    members.map(async (m): Promise<InfoNode> => {
      if (m.kind === 'group') return zarrNode(await g.openGroup(m.name), m.name, arrayInfo);
      let a: ZArray;
      try {
        a = await g.openArray(m.name);
      } catch (e) {
        if (!undecodable(e, true)) throw e;
        return unopenedArray(g, m.name, e as ZarrsError);
      }
      const info = await arrayInfo(a);
      return {
        name: m.name,
        path: `/${a.path}`,
        kind: 'array',
        encoding: null,
        shape: a.shape,
        dtype: a.dtype,
        array: info,
        parts: {},
        ...sizes([info], []),
        children: [],
      };
    }),
  );
  return {
    name: name === '' ? nameOf(g.path) : name,
    path: `/${g.path}`,
    kind: 'group',
    encoding: null,
    shape: null,
    dtype: null,
    array: null,
    parts: {},
    ...sizes([], children),
    children,
  };
}

/** An array zarrs cannot open (a codec or data type it lacks): what its stored metadata says, and why. */
async function unopenedArray(g: Group, name: string, e: ZarrsError): Promise<InfoNode> {
  const { metadata } = await g.memberMetadata(name);
  const shape = Array.isArray(metadata.shape) ? (metadata.shape as number[]) : null;
  const dtype = metadata.data_type ?? metadata.dtype;
  return {
    name,
    path: `/${joinPath(g.path, name)}`,
    kind: 'array',
    encoding: null,
    shape,
    dtype: typeof dtype === 'string' ? dtype : null,
    array: null,
    parts: {},
    storedBytes: null,
    decodedBytes: null,
    ratio: null,
    children: [],
    unopened: { code: e.code, message: e.message },
  };
}

/** A codec chain in CodecSpec spelling; a sharded array shows its inner chain (the shards column shows the sharding). */
export function codecNames(codecs: unknown, zarrFormat: 2 | 3): string[] {
  if (zarrFormat === 2) {
    const { filters, compressor } = codecs as { filters: unknown[] | null; compressor: unknown };
    return [...(filters ?? []), ...(compressor === null ? [] : [compressor])].map((c) => {
      const { id, ...config } = c as { id: string } & Record<string, unknown>;
      return codecName(id, config);
    });
  }
  return (codecs as { name: string; configuration?: Record<string, unknown> }[]).flatMap((c) =>
    c.name === 'sharding_indexed' ? codecNames(c.configuration?.codecs, 3) : [codecName(c.name, c.configuration ?? {})],
  );
}

const SHUFFLES = ['noshuffle', 'shuffle', 'bitshuffle'];

function codecName(name: string, c: Record<string, unknown>): string {
  switch (name) {
    case 'zstd':
    case 'gzip':
    case 'zlib':
    case 'bz2':
      return c.level === undefined ? name : `${name}:${c.level}`;
    case 'blosc': {
      const shuffle = typeof c.shuffle === 'number' ? SHUFFLES[c.shuffle] : c.shuffle;
      return `blosc:${c.cname}:${c.clevel}:${shuffle}`;
    }
    case 'bytes':
      return c.endian === 'big' ? 'bytes:big' : 'bytes';
    default:
      return name;
  }
}

const COLUMNS = ['element', 'encoding', 'shape', 'dtype', 'chunks', 'shards', 'codecs', 'stored', 'ratio'] as const;

/** The human-readable tree: one aligned row per element and per array part. */
export function renderInfo(info: StoreInfo): string {
  const rows: string[][] = [];
  const arrayCells = (a: InfoArray | null): string[] =>
    a === null
      ? ['', '', '']
      : [formatShape(a.chunks), a.shards === null ? '-' : formatShape(a.shards), a.codecs.join(', ')];
  const sizeCells = (x: { storedBytes: number | null; ratio: number | null }): string[] => [
    x.storedBytes === null ? '-' : formatBytes(x.storedBytes),
    x.ratio === null ? '-' : x.ratio.toFixed(3),
  ];
  const add = (n: InfoNode, lead: string, childLead: string): void => {
    const enc = n.unopened
      ? `cannot open (${n.unopened.code})`
      : n.encoding === null
        ? n.kind === 'group' || n.kind === 'array'
          ? ''
          : n.kind
        : `${n.encoding.type} ${n.encoding.version}`;
    rows.push([`${lead}${n.name}`, enc, formatShape(n.shape), n.dtype ?? '', ...arrayCells(n.array), ...sizeCells(n)]);
    const parts = Object.entries(n.parts);
    const total = parts.length + n.children.length;
    parts.forEach(([name, a], i) => {
      const last = i === total - 1;
      rows.push([
        `${childLead}${last ? '└── ' : '├── '}${name}`,
        '',
        formatShape(a.shape),
        a.dtype,
        ...arrayCells(a),
        ...sizeCells(a),
      ]);
    });
    n.children.forEach((c, i) => {
      const last = parts.length + i === total - 1;
      add(c, `${childLead}${last ? '└── ' : '├── '}`, `${childLead}${last ? '    ' : '│   '}`);
    });
  };
  add(info.root, '', '');
  const table = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, c) => Math.max(...table.map((r) => r[c].length)));
  const lines = table.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd(),
  );
  const what =
    info.layout === 'zarr'
      ? 'zarr hierarchy'
      : `AnnData${info.layout === 'legacy' ? ' (before encoding attributes)' : ''}${info.root.shape ? ` ${info.root.shape[0]} obs x ${info.root.shape[1]} vars` : ''}`;
  const head = `${info.store}: ${what}, zarr v${info.zarrFormat}, ${info.consolidated ? 'consolidated' : 'not consolidated'}`;
  const stored = info.root.storedBytes;
  if (stored === null) return [head, ...lines, 'stored bytes unknown: the store cannot list its keys'].join('\n');
  const total = `stored ${formatBytes(stored)}${info.root.ratio === null ? '' : ` (ratio ${info.root.ratio.toFixed(3)})`}`;
  return [head, ...lines, total].join('\n');
}

export function infoCommand(program: Command): void {
  program
    .command('info')
    .description(
      'show the element tree (AnnData) or groups and arrays (zarr) with shapes, dtypes, chunks, shards, codecs and stored bytes',
    )
    .argument('<store>', 'a path, file://, s3://, http(s):// URL or .zip')
    .option('--json', 'print the tree as JSON')
    .action((store: string, opts: OutputOptions) =>
      runCommand(opts, async () => {
        const info = await storeInfo(store);
        printResult(opts, info, renderInfo);
        return EXIT_OK;
      }),
    );
}
