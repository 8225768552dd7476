// Whole AnnData objects (writeZarr / readZarr) written to and read back from S3 (moto) and
// Azure (Azurite), and read over HTTP, all on loopback.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readZarr, writeZarr } from '../src-ts/anndata/index.js';
import { openStore } from '../src-ts/index.js';
import { dumpAnnData } from './anndata-dump.js';
import { sampleAnnData } from './anndata-sample.js';
import { tmp } from './helpers.js';
import { prefix } from './objstore-suite.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  type AzureServer,
  type S3Server,
  startAzurite,
  startRangeServerProcess,
  startS3,
} from './servers.js';

let s3: S3Server;
let az: AzureServer;
let dir: string;
let web: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  [s3, az] = await Promise.all([startS3(), startAzurite()]);
  dir = tmp('zn-anndata-http-');
  // In its own process: readZarr makes synchronous reads too, which block this thread.
  web = await startRangeServerProcess(dir);
});

afterAll(async () => {
  await Promise.all([s3?.stop(), az?.stop(), web?.stop()]);
});

describe('AnnData on object stores', () => {
  const adata = sampleAnnData(40, 30);
  const stores = () => ({
    s3: (p: string) =>
      openStore(`s3://${s3.bucket}/${p}`, {
        endpoint: s3.endpoint,
        allowHttp: true,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
      }),
    azure: (p: string) =>
      openStore(`az://${az.container}/${p}`, {
        endpoint: az.endpoint,
        allowHttp: true,
        accountName: AZURITE_ACCOUNT,
        accountKey: AZURITE_KEY,
      }),
  });

  for (const kind of ['s3', 'azure'] as const) {
    test.each([3, 2] as const)(`${kind}: writeZarr / readZarr round trip, v%s`, async (zarrFormat) => {
      const p = prefix(`adata-v${zarrFormat}`);
      await writeZarr(await stores()[kind](p), adata, { zarrFormat, convertStringsToCategoricals: false });
      const fresh = await stores()[kind](p);
      expect(dumpAnnData(await readZarr(fresh))).toEqual(dumpAnnData(adata));
    });
  }

  test.each([3, 2] as const)('http: readZarr of a consolidated store, v%s', async (zarrFormat) => {
    await writeZarr(`${dir}/v${zarrFormat}.zarr`, adata, { zarrFormat, convertStringsToCategoricals: false });
    const store = await openStore(`${web.url}/v${zarrFormat}.zarr`);
    // Consolidated: no listing (which a plain HTTP server could not answer).
    expect(dumpAnnData(await readZarr(store))).toEqual(dumpAnnData(adata));
    expect(store.stats().requests).toBeGreaterThan(0);
  });
});
