// awkward-array 0.1.0: a group with the array's `form` (JSON text) and `length` attributes and
// one 1-D array per buffer, named `<form_key>-<role>`. Kept as form + raw buffers so it
// round-trips exactly without an awkward implementation in JS.

import { InvalidMetadataError } from '../../zarr/errors.js';
import type { Group } from '../../zarr/group.js';
import { AwkwardArray, type DenseArray } from '../elems.js';
import { elemPath, encodingAttrs, noSelection, register } from '../registry.js';
import { readDense, writeArray } from './dense.js';

const SPEC = { encodingType: 'awkward-array', encodingVersion: '0.1.0' };

register({
  type: 'awkward-array',
  version: '0.1.0',
  node: 'group',
  describe: async (node, ctx) => {
    const g = node as Group;
    const { form, length } = g.attrs;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(String(form)) as Record<string, unknown>;
    } catch {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}': attribute 'form' is not JSON`, {
        key: g.path,
      });
    }
    if (!Number.isSafeInteger(length)) {
      throw new InvalidMetadataError('InvalidMetadata', `'${elemPath(g)}': attribute 'length' must be an integer`, {
        key: g.path,
      });
    }
    const names = await ctx.names(g);
    const bufs = await Promise.all(names.map((n) => ctx.array(g, n)));
    return {
      kind: 'awkward' as const,
      shape: [length as number],
      arrays: Object.fromEntries(names.map((n, i) => [n, bufs[i]])),
      extra: { form: parsed, length },
    };
  },
  materialize: async (desc, ctx, sel) => {
    noSelection(desc, sel);
    const names = Object.keys(desc.arrays);
    const bufs = await Promise.all(names.map((n) => readDense(desc.arrays[n], ctx)));
    const buffers: Record<string, DenseArray> = Object.fromEntries(names.map((n, i) => [n, bufs[i]]));
    return new AwkwardArray(desc.extra.form as Record<string, unknown>, desc.extra.length as number, buffers);
  },
  accepts: (e) => e instanceof AwkwardArray,
  write: async (parent, key, e, ctx) => {
    const a = e as AwkwardArray;
    const g = await parent.createGroup(key, {
      zarrFormat: ctx.opts.zarrFormat,
      attributes: { ...encodingAttrs(SPEC), form: JSON.stringify(a.form), length: a.length },
      overwrite: true,
      signal: ctx.opts.signal,
    });
    // python writes each buffer as an element of its own (encoding `array`)
    const attrs = encodingAttrs({ encodingType: 'array', encodingVersion: '0.2.0' });
    await Promise.all(Object.entries(a.buffers).map(([n, b]) => writeArray(g, n, b, attrs, ctx, 'column')));
  },
});
