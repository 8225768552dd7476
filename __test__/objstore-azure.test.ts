// Azure Blob stores against Azurite on loopback: the shared object-store suite and credential
// failures.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createArray, openArray, openStore } from '../src-ts/index.js';
import { type Backend, objectStoreSuite, prefix } from './objstore-suite.js';
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  type AzureServer,
  type FaultProxy,
  startAzurite,
  startFaultProxy,
} from './servers.js';

let server: AzureServer;
let proxy: FaultProxy;
let backend: Backend;

beforeAll(async () => {
  server = await startAzurite();
  proxy = await startFaultProxy(`http://127.0.0.1:${server.port}`);
  backend = {
    kind: 'azure',
    origin: `http://127.0.0.1:${server.port}`,
    url: (p) => `az://${server.container}/${p}`,
    options: (origin = `http://127.0.0.1:${server.port}`) => ({
      endpoint: `${origin}/${AZURITE_ACCOUNT}`,
      allowHttp: true,
      accountName: AZURITE_ACCOUNT,
      accountKey: AZURITE_KEY,
    }),
  };
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

describe('Azure (Azurite)', () => {
  objectStoreSuite(
    () => backend,
    () => proxy,
  );

  test('useEmulator with an endpoint: the emulator account and key', async () => {
    const url = `az://${server.container}/${prefix('emulator')}`;
    const opts = { useEmulator: true, endpoint: `http://127.0.0.1:${server.port}` };
    // Without options or AZURE_* variables there are no credentials.
    await expect(createArray(url, 'a', { shape: [3], dtype: 'float64' })).rejects.toMatchObject({ code: 'Storage' });
    const store = await openStore(url, opts);
    const b = await createArray(store, 'b', { shape: [3], dtype: 'float64' });
    await b.set(null, Float64Array.of(1, 2, 3));
    expect(Array.from((await (await openArray(store, 'b')).get()).data as Float64Array)).toEqual([1, 2, 3]);
  });

  test('wrong key: a clear Storage error, fast; no credentials: refused when the store opens', async () => {
    const wrongKey = Buffer.alloc(64, 7).toString('base64');
    const store = await openStore(`az://${server.container}/${prefix('creds')}`, {
      ...backend.options(),
      accountKey: wrongKey,
    });
    const t0 = Date.now();
    await expect(store.set('k', new Uint8Array([1]))).rejects.toMatchObject({
      code: 'Storage',
      key: 'k',
      message: expect.stringMatching(/403|AuthorizationFailure|AuthenticationFailed|Server failed to authenticate/),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(
      openStore(`az://${server.container}/x`, { endpoint: backend.options().endpoint, accountName: AZURITE_ACCOUNT }),
    ).rejects.toMatchObject({ code: 'Storage', message: expect.stringMatching(/no Azure credentials/) });
  });
});
