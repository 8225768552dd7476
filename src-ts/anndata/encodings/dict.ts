// dict 0.1.0: a group of named elements (uns, obsm, layers, ...). Plain JS objects are dicts.

import type { Group } from '../../zarr/group.js';
import { isDense, isSparse } from '../elems.js';
import {
  describeMembers,
  type Encoding,
  encodingAttrs,
  materializeChildren,
  noSelection,
  register,
  registerLegacy,
  type WriteCtx,
} from '../registry.js';

const SPEC = { encodingType: 'dict', encodingVersion: '0.1.0' };

/** A plain object (not a class instance, array or element type) is a dict. */
export function isDict(e: unknown): e is Record<string, unknown> {
  if (typeof e !== 'object' || e === null || Array.isArray(e) || ArrayBuffer.isView(e)) return false;
  const proto = Object.getPrototypeOf(e);
  return (proto === Object.prototype || proto === null) && !isDense(e) && !isSparse(e) && !('kind' in e);
}

/** Write a dict group and its entries (entries run concurrently). */
export async function writeDict(
  parent: Group,
  key: string,
  d: Record<string, unknown>,
  ctx: WriteCtx,
  attrs: Record<string, unknown> = encodingAttrs(SPEC),
): Promise<Group> {
  const g = await parent.createGroup(key, {
    zarrFormat: ctx.opts.zarrFormat,
    attributes: attrs,
    overwrite: true,
    signal: ctx.opts.signal,
  });
  await Promise.all(Object.entries(d).map(([k, v]) => ctx.write(g, k, v)));
  return g;
}

const DICT: Encoding = {
  type: 'dict',
  version: '0.1.0',
  node: 'group',
  describe: async (node, ctx) => ({ kind: 'dict', children: await describeMembers(node as Group, ctx) }),
  materialize: (desc, ctx, sel) => {
    noSelection(desc, sel);
    return materializeChildren(desc, ctx);
  },
  accepts: isDict,
  write: async (parent, key, e, ctx) => {
    await writeDict(parent, key, e as Record<string, unknown>, ctx);
  },
};
register(DICT);
registerLegacy('dict', DICT);
