// Exact store requests of lazy reads (like python anndata's tests/lazy/test_read.py), on the
// local filesystem and on the S3 test server (moto on loopback): a change that adds a request
// fails here. The store is written by writeZarr (consolidated), so the open is one request.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type LazyMatrix, readLazy, writeZarr } from '../src-ts/anndata/index.js';
import { openStore, type Store, slice } from '../src-ts/index.js';
import { sampleAnnData } from './anndata-sample.js';
import { tmp } from './helpers.js';
import { prefix } from './objstore-suite.js';
import { type S3Server, startRangeServerProcess, startS3 } from './servers.js';

let s3: S3Server;
let web: { url: string; stop(): Promise<void> };
let webRoot: string;
beforeAll(async () => {
  webRoot = tmp('zn-lazy-http-');
  [s3, web] = await Promise.all([startS3(), startRangeServerProcess(webRoot)]);
});
afterAll(async () => {
  await Promise.all([s3?.stop(), web?.stop()]);
});

const N = 60;
/** toMemory of a 2-column view of the sample store (see the test for the breakdown). */
const REQUESTS_2_COLUMNS = 67;
const M = 20;

type Opener = () => Promise<Store>;

async function stores(zarrFormat: 2 | 3): Promise<Record<'local' | 's3', Opener>> {
  const path = join(tmp(), 'req.zarr');
  const p = prefix(`lazy-req-v${zarrFormat}`);
  const s3store = () =>
    openStore(`s3://${s3.bucket}/${p}`, {
      endpoint: s3.endpoint,
      allowHttp: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
  const adata = sampleAnnData(N, M);
  await writeZarr(path, adata, { zarrFormat });
  await writeZarr(await s3store(), adata, { zarrFormat });
  return { local: () => openStore(path), s3: s3store };
}

/** Requests `f` makes on `store`. */
async function requests(store: Store, f: () => Promise<unknown>): Promise<number> {
  store.resetStats();
  await f();
  return store.stats().requests;
}

describe.each([3, 2] as const)('zarr v%i', (zarrFormat) => {
  let open: Record<'local' | 's3', Opener>;
  beforeAll(async () => {
    open = await stores(zarrFormat);
  });

  for (const where of ['local', 's3'] as const) {
    test(`${where}: open, one column, a categorical, a view of a view`, async () => {
      const store = await open[where]();
      // consolidated: one request (the root metadata document, with every element's metadata)
      const opened = await requests(store, () => readLazy(store, { loadIndex: false, zarrFormat }));
      expect(opened).toBe(1);
      // without zarrFormat, the first open of a v2 store through a Store finds it after the
      // zarr.json probe misses (v3 metadata would win if present, so it must be probed first;
      // see the lazy reading section of the README); that Store remembers the format after
      const fresh = await open[where]();
      expect(await requests(fresh, () => readLazy(fresh, { loadIndex: false }))).toBe(zarrFormat === 3 ? 1 : 2);
      expect(await requests(fresh, () => readLazy(fresh, { loadIndex: false }))).toBe(1);
      expect(await requests(store, () => readLazy(store, { loadIndex: false }))).toBe(1);
      // + the obs index (one chunk) and the var index (a nullable string: values + mask)
      expect(await requests(store, () => readLazy(store, { zarrFormat }))).toBe(4);

      const a = await readLazy(store, { zarrFormat, loadIndex: false });
      // a float column: its one chunk
      expect(await requests(store, () => a.obs.column('f32').get())).toBe(1);
      // a categorical: codes + categories, then codes only (categories are cached)
      expect(await requests(store, () => a.obs.column('cat').get([3, 1]))).toBe(2);
      expect(await requests(store, () => a.obs.column('cat').get(slice(10, 20)))).toBe(1);
      // a view of a view: nothing until read, then only the dense layer's chunk
      let view = a;
      expect(
        await requests(store, async () => {
          view = a.select(slice(5, 50)).select([3, 9, 9], slice(2, 8));
        }),
      ).toBe(0);
      expect(await requests(store, () => (view.layers.dense as LazyMatrix).get())).toBe(1);
    });

    test(`${where}: 10 random rows of CSR X, toMemory of a 2-column selection`, async () => {
      const store = await open[where]();
      const a = await readLazy(store, { zarrFormat, loadIndex: false });
      const X = a.X as LazyMatrix;
      // the first row: the whole indptr (a lazy matrix keeps it when it has at most a million
      // rows), then one take reading data and indices (one chunk each here)
      expect(await requests(store, () => X.get(5))).toBe(3);
      const rows = [41, 7, 7, 59, 0, 23, 12, 38, 3, 50];
      // indptr is cached: the take alone
      expect(await requests(store, () => X.get(rows))).toBe(2);
      expect(await requests(store, () => X.get(rows.map((r) => N - 1 - r)))).toBe(2);
      // and for a single row or a short contiguous slice
      expect(await requests(store, () => X.get(5))).toBe(2);
      expect(await requests(store, () => X.get(slice(10, 30)))).toBe(2);
      // every element of the view at once: X's take (indptr cached) 2, and one request per
      // array of every other element (the sample's arrays are one chunk each; CSC layers/csc is
      // a take of 2 columns: indptr + data + indices)
      const fresh = await readLazy(store, { zarrFormat, loadIndex: false });
      await (fresh.X as LazyMatrix).get([0]);
      expect(await requests(store, () => fresh.select(null, [3, 17]).toMemory())).toBe(REQUESTS_2_COLUMNS);
    });
  }
});

test('http (a server that cannot list): open with one request, then a taken row block', async () => {
  const adata = sampleAnnData(N, M);
  await writeZarr(join(webRoot, 'a.zarr'), adata);
  const store = await openStore(`${web.url}/a.zarr`);
  const a = await readLazy(store, { loadIndex: false });
  expect(store.stats().requests).toBe(1);
  const X = a.X as LazyMatrix;
  expect(await requests(store, () => X.get([9, 2, 2]))).toBe(3);
  expect(await requests(store, () => a.obs.column('cat').get())).toBe(2);
});
