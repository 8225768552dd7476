// Metadata writes: concurrent creates under consolidated metadata lose no entry (one Store, one
// Group, several Stores on one location, S3), a group handle sees children created through it,
// writes cost no extra reads without a consolidated ancestor, and openGroup honours zarrFormat.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  consolidateMetadata,
  createArray,
  createGroup,
  type Group,
  openGroup,
  openStore,
  type Store,
  type StoreOptions,
} from '../src-ts/index.js';
import { tmp } from './helpers.js';
import { type S3Server, startS3 } from './servers.js';

const N = 64;
const names = () => [...Array.from({ length: N }, (_, i) => `a${i}`), 'pre'].sort();
let memories = 0;

/** Start creating a0..a63 at once; `create(name, i)` makes one. */
function createAll(create: (name: string, i: number) => Promise<unknown>) {
  return Promise.all(Array.from({ length: N }, (_, i) => create(`a${i}`, i)));
}

/** A consolidated root holding one array, `pre`. */
async function consolidatedRoot(store: Store): Promise<void> {
  await createGroup(store, '', { overwrite: true });
  await createArray(store, 'pre', { shape: [1], dtype: 'int8' });
  await consolidateMetadata(store);
}

/** What the root's consolidated metadata records, read through a fresh Store. */
async function recorded(location: string, options: StoreOptions = {}): Promise<string[]> {
  const g = await openGroup(await openStore(location, options), '', { consolidated: 'require' });
  return (await g.members()).map((m) => m.name).sort();
}

const kinds = {
  local: () => tmp(),
  memory: () => `memory://metadata-writes-${memories++}`,
};

describe.each(Object.entries(kinds))('%s store', (_, location) => {
  test(`${N} concurrent createArray calls through one Store lose no consolidated entry`, async () => {
    const loc = location();
    const store = await openStore(loc);
    await consolidatedRoot(store);
    await createAll((n) => createArray(store, n, { shape: [2], dtype: 'int32' }));
    expect(await recorded(loc)).toEqual(names());
  });

  test(`${N} concurrent creates through one Group lose no consolidated entry`, async () => {
    const loc = location();
    await consolidatedRoot(await openStore(loc));
    const g = await openGroup(loc, '', { mode: 'r+' });
    expect(g.consolidated).toBe(true);
    await createAll((n) => g.createArray(n, { shape: [2], dtype: 'int32' }));
    expect(await recorded(loc)).toEqual(names());
    // The handle that created them lists them from its (refreshed) consolidated view.
    expect((await g.members()).map((m) => m.name).sort()).toEqual(names());
  });

  test('a child created through an r+ consolidated group opens on the same handle', async () => {
    const loc = location();
    await consolidatedRoot(await openStore(loc));
    const g = await openGroup(loc, '', { mode: 'r+' });
    const sub = await g.createGroup('sub');
    await g.createArray('late', { shape: [3], dtype: 'float64' });
    await sub.createArray('x', { shape: [1], dtype: 'uint8' });
    expect((await g.openArray('late')).shape).toEqual([3]);
    expect((await (await g.openGroup('sub')).openArray('x')).dtype).toBe('uint8');
    expect((await g.members()).map((m) => m.name)).toEqual(['late', 'pre', 'sub']);
  });

  test('createArray without a consolidated ancestor reads nothing back (Store.stats)', async () => {
    const store = await openStore(location());
    await createGroup(store, '');
    store.resetStats();
    await createArray(store, 'a', { shape: [2], dtype: 'int32' });
    // Reads: root zarr.json (parent and consolidation check at once), then a/zarr.json,
    // a/.zarray, a/.zgroup (nothing there yet); one write. Nothing is read after writing.
    expect(store.stats()).toMatchObject({ requests: 5 });
    expect(store.stats().bytesWritten).toBeGreaterThan(0);
    await consolidateMetadata(store);
    store.resetStats();
    await createArray(store, 'b', { shape: [2], dtype: 'int32' });
    // The same five, plus re-reading and rewriting the consolidated root.
    expect(store.stats().requests).toBe(7);
  });

  test('a v2 createArray checks its parent with one request (Store.stats)', async () => {
    const store = await openStore(location());
    await createGroup(store, '', { zarrFormat: 2 });
    store.resetStats();
    await createArray(store, 'a', { shape: [2], dtype: 'int32', zarrFormat: 2 });
    // .zmetadata of the root and of a (consolidation check), a/.zgroup, a/.zarray, a/zarr.json
    // (nothing there yet), the root's .zgroup; then .zarray and .zattrs.
    expect(store.stats().requests).toBe(8);
  });

  test.each(['w', 'a'] as const)("openGroup mode '%s' creates the requested zarrFormat", async (mode) => {
    const store = await openStore(location());
    const v2 = await openGroup(store, 'g2', { mode, zarrFormat: 2 });
    expect(v2.zarrFormat).toBe(2);
    expect(await store.list('g2')).toEqual(['g2/.zattrs', 'g2/.zgroup']);
    const v3 = await openGroup(store, 'g3', { mode, zarrFormat: 3 });
    expect(v3.zarrFormat).toBe(3);
    expect(await store.list('g3')).toEqual(['g3/zarr.json']);
  });
});

test('Stores opened on one local location, spelt differently, lose no entry', async () => {
  const dir = tmp();
  await consolidatedRoot(await openStore(dir));
  const stores = await Promise.all([dir, `${dir}/`, `file://${dir}`, `${dir}/.`].map((l) => openStore(l)));
  await createAll((n, i) => createArray(stores[i % stores.length] as Store, n, { shape: [2], dtype: 'int32' }));
  expect(await recorded(dir)).toEqual(names());
});

function members(g: Group) {
  return g.members().then((ms) => ms.map((m) => m.name).sort());
}

describe('S3 store (moto)', () => {
  let server: S3Server;
  let options: StoreOptions;
  beforeAll(async () => {
    server = await startS3();
    options = {
      endpoint: server.endpoint,
      allowHttp: true,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'us-east-1',
    };
  });
  afterAll(async () => {
    await server?.stop();
  });

  test(`${N} concurrent creates through two Stores on one S3 location lose no entry`, async () => {
    const url = `s3://${server.bucket}/metadata-writes`;
    await consolidatedRoot(await openStore(url, options));
    const stores = [await openStore(url, options), await openStore(`${url}/`, options)];
    const g = await openGroup(stores[0] as Store, '', { mode: 'r+' });
    await createAll((n, i) => createArray(stores[i % 2] as Store, n, { shape: [2], dtype: 'int32' }));
    expect(await recorded(url, options)).toEqual(names());
    expect(await members(g)).toEqual(names());
  });
});
