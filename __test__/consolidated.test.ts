// Consolidated metadata: written for v2 and v3, used for zero-request member lookups, kept in
// step with later writes (or refused with ConsolidatedStale), keys kept case-sensitively.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  ConsolidatedStaleError,
  consolidateMetadata,
  createArray,
  createGroup,
  NotFoundError,
  openGroup,
  openStore,
} from '../src-ts/index.js';
import { tmp } from './helpers.js';

async function build(fmt: 2 | 3) {
  const dir = tmp();
  const root = await createGroup(dir, '', { zarrFormat: fmt, attributes: { a: 1 } });
  const obs = await root.createGroup('obs');
  await obs.createArray('Gene', { shape: [3], dtype: 'string' });
  await obs.createArray('gene', { shape: [4], dtype: 'int32' });
  await root.createArray('X', { shape: [4, 3], dtype: 'float32', chunks: [2, 3] });
  await consolidateMetadata(dir);
  return dir;
}

test.each([2, 3] as const)('v%s: open with one request, members and children with none', async (fmt) => {
  const dir = await build(fmt);
  const store = await openStore(dir);
  const g = await openGroup(store, '', { consolidated: 'require' });
  // v3: the root zarr.json carries everything. v2: zarr.json (absent), then .zmetadata.
  expect(store.stats().requests).toBe(fmt === 3 ? 1 : 2);
  store.resetStats();
  expect(await g.members()).toEqual([
    { name: 'X', kind: 'array' },
    { name: 'obs', kind: 'group' },
  ]);
  const obs = await g.openGroup('obs');
  expect((await obs.members()).map((m) => m.name)).toEqual(['Gene', 'gene']);
  expect((await obs.openArray('Gene')).dtype).toBe('string');
  expect((await obs.openArray('gene')).shape).toEqual([4]);
  expect(store.stats().requests).toBe(0);
  // ignore: no consolidated view, same answers from listing.
  const ig = await openGroup(dir, '', { consolidated: 'ignore' });
  expect(ig.consolidated).toBe(false);
  expect((await (await ig.openGroup('obs')).members()).map((m) => m.name)).toEqual(['Gene', 'gene']);
});

test('require fails without consolidated metadata', async () => {
  const dir = tmp();
  await createGroup(dir, '');
  await expect(openGroup(dir, '', { consolidated: 'require' })).rejects.toBeInstanceOf(NotFoundError);
  expect((await openGroup(dir, '', { consolidated: 'auto' })).consolidated).toBe(false);
});

test.each([2, 3] as const)('v%s: writes after consolidation update the consolidated copy', async (fmt) => {
  const dir = await build(fmt);
  const g = await openGroup(dir, '', { mode: 'r+' });
  await (await g.openGroup('obs')).createArray('new', { shape: [2], dtype: 'uint8' });
  const x = await g.openArray('X');
  await x.resize([6, 3]);
  await x.setAttributes({ units: 'counts' });
  await g.setAttributes({ a: 2 });
  // Overwriting a group drops its old children from the consolidated copy.
  await g.createGroup('obs', { overwrite: true });
  const fresh = await openGroup(dir, '', { consolidated: 'require' });
  expect(fresh.attrs).toEqual({ a: 2 });
  const fx = await fresh.openArray('X');
  expect(fx.shape).toEqual([6, 3]);
  expect(fx.attrs).toEqual({ units: 'counts' });
  expect(await (await fresh.openGroup('obs')).members()).toEqual([]);
  if (fmt === 3) {
    const meta = JSON.parse(readFileSync(join(dir, 'zarr.json'), 'utf8')).consolidated_metadata.metadata;
    expect(Object.keys(meta).sort()).toEqual(['X', 'obs']);
  } else {
    const meta = JSON.parse(readFileSync(join(dir, '.zmetadata'), 'utf8')).metadata;
    expect(Object.keys(meta).some((k) => k.startsWith('obs/gene'))).toBe(false);
  }
});

test('consolidatedWrites: refuse throws ConsolidatedStale and writes nothing', async () => {
  const dir = await build(3);
  const store = await openStore(dir, { consolidatedWrites: 'refuse' });
  const before = readFileSync(join(dir, 'zarr.json'), 'utf8');
  await expect(createArray(store, 'obs/other', { shape: [1], dtype: 'int8' })).rejects.toBeInstanceOf(
    ConsolidatedStaleError,
  );
  const g = await openGroup(store, 'obs', { mode: 'r+' });
  await expect(g.setAttributes({ x: 1 })).rejects.toMatchObject({ code: 'ConsolidatedStale', key: 'obs' });
  expect(await store.list('obs/other')).toEqual([]);
  expect(readFileSync(join(dir, 'zarr.json'), 'utf8')).toBe(before);
});

test('keys differing only by case survive consolidation (anndata #2576)', async () => {
  const dir = await build(3);
  const meta = JSON.parse(readFileSync(join(dir, 'zarr.json'), 'utf8')).consolidated_metadata.metadata;
  expect(meta['obs/Gene'].data_type).toBe('string');
  expect(meta['obs/gene'].data_type).toBe('int32');
});
