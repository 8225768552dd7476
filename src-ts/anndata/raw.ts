// The `{ fallback: 'raw' }` reading of an element the registry cannot decode (unknown or
// missing encoding, an array zarrs cannot open): its attributes and metadata document, plus the
// decoded values of an array zarrs can read, else its stored (encoded) chunk bytes.

import type { Group } from '../zarr/group.js';
import type { Store } from '../zarr/store.js';
import type { RawElem } from './elems.js';
import {
  ArrayRef,
  type ElemDesc,
  type Encoding,
  isGroup,
  type Node,
  noSelection,
  type ReadCtx,
  registerRawFallback,
  undecodable,
} from './registry.js';

/** Metadata keys of a node: not chunks. */
const METADATA_KEYS = new Set(['.zarray', '.zattrs', '.zgroup', '.zmetadata', 'zarr.json']);

const RAW: Encoding = {
  type: 'raw-element',
  version: '',
  node: 'group',
  describe: async () => ({ kind: 'raw' }),
  materialize: async (desc, ctx, sel) => {
    noSelection(desc, sel);
    return materializeRaw(desc, ctx);
  },
};

async function materializeRaw(desc: ElemDesc, ctx: ReadCtx): Promise<RawElem> {
  const base = {
    kind: 'raw' as const,
    path: desc.path,
    attributes: { ...desc.attrs },
    metadata: desc.extra.metadata as Record<string, unknown>,
  };
  if (desc.extra.node === 'group') {
    const names = Object.keys(desc.children);
    const values = await Promise.all(names.map((n) => materializeRaw(desc.children[n], ctx)));
    return { ...base, node: 'group', children: Object.fromEntries(names.map((n, i) => [n, values[i]])) };
  }
  const arr = desc.arrays.self;
  // record arrays have no single buffer (a RawElem's data): their stored chunks stand in
  if (arr !== undefined && arr.dtype !== 'record') {
    const c = await arr.get(null, ctx.opts);
    return { ...base, node: 'array', data: { dtype: arr.dtype, data: c.data, shape: c.shape } };
  }
  const ref = desc.extra.ref as ArrayRef;
  const [store, path] = arr !== undefined ? [arr.store, arr.path] : [ref.parent.store, ref.path];
  return { ...base, node: 'array', chunks: await storedChunks(store, path, ctx) };
}

/** Every stored key of the array at `path` but its metadata, by key relative to the array. */
async function storedChunks(store: Store, path: string, ctx: ReadCtx): Promise<Record<string, Uint8Array>> {
  const prefix = `${path}/`;
  const keys = (await store.list(path, ctx.opts)).filter(
    (k) => k.startsWith(prefix) && !METADATA_KEYS.has(k.slice(prefix.length)),
  );
  const values = await Promise.all(keys.map((k) => store.get(k, ctx.opts)));
  const out: Record<string, Uint8Array> = {};
  keys.forEach((k, i) => {
    const v = values[i];
    // a plain view, not the Buffer the store hands out
    if (v !== null) out[k.slice(prefix.length)] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  });
  return out;
}

async function describeRaw(node: Node | ArrayRef, ctx: ReadCtx): Promise<ElemDesc> {
  const common = { path: node.path, spec: { encodingType: '', encodingVersion: '' }, encoding: RAW };
  const none = { shape: null, dtype: null, arrays: {}, children: {} };
  if (node instanceof ArrayRef) {
    const { attributes, metadata } = node.stored;
    return { ...common, ...none, kind: 'raw', attrs: attributes, extra: { node: 'array', metadata, ref: node } };
  }
  if (!isGroup(node)) {
    return {
      ...common,
      ...none,
      kind: 'raw',
      shape: node.shape,
      dtype: node.dtype,
      attrs: node.attrs,
      arrays: { self: node },
      extra: { node: 'array', metadata: node.metadata },
    };
  }
  const names = await ctx.names(node);
  const children = await Promise.all(names.map((n) => describeRawChild(node, n, ctx)));
  return {
    ...common,
    ...none,
    kind: 'raw',
    attrs: node.attrs,
    children: Object.fromEntries(names.map((n, i) => [n, children[i]])),
    extra: { node: 'group', metadata: { zarr_format: node.zarrFormat, node_type: 'group' } },
  };
}

/** A child of a raw group, raw as well (opened when zarrs can, else from its stored metadata). */
async function describeRawChild(g: Group, name: string, ctx: ReadCtx): Promise<ElemDesc> {
  if ((await ctx.members(g)).get(name) === 'group') return describeRaw(await ctx.group(g, name), ctx);
  try {
    return describeRaw(await g.openArray(name, ctx.opts), ctx);
  } catch (e) {
    if (!undecodable(e, true)) throw e;
    return describeRaw(new ArrayRef(g, name, await g.memberMetadata(name, ctx.opts)), ctx);
  }
}

registerRawFallback(describeRaw);
