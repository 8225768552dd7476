// S3 stores against a real S3-protocol server (moto, signatures checked) on loopback: the
// shared object-store suite, configuration from the environment, and credential failures.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createArray, openArray, openStore } from '../src-ts/index.js';
import { type Backend, FAST_RETRY, objectStoreSuite, prefix } from './objstore-suite.js';
import { type FaultProxy, freePort, type S3Server, startFaultProxy, startS3 } from './servers.js';

let server: S3Server;
let proxy: FaultProxy;
let backend: Backend;

beforeAll(async () => {
  server = await startS3();
  proxy = await startFaultProxy(server.endpoint);
  backend = {
    kind: 's3',
    origin: server.endpoint,
    url: (p) => `s3://${server.bucket}/${p}`,
    options: (origin = server.endpoint) => ({
      endpoint: origin,
      allowHttp: true,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
      region: 'us-east-1',
    }),
  };
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

describe('S3 (moto)', () => {
  objectStoreSuite(
    () => backend,
    () => proxy,
  );

  test('a plain s3://bucket/key URL is configured from AWS_* variables alone', async () => {
    const vars = {
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_ALLOW_HTTP: 'true',
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      const url = `s3://${server.bucket}/${prefix('env')}`;
      const a = await createArray(url, 'a', { shape: [10], dtype: 'int32' });
      await a.set(
        null,
        Int32Array.from({ length: 10 }, (_, i) => i * i),
      );
      expect(Array.from((await (await openArray(url, 'a')).get()).data as Int32Array)).toEqual([
        0, 1, 4, 9, 16, 25, 36, 49, 64, 81,
      ]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('wrong credentials: a clear Storage error, fast', async () => {
    for (const wrong of [{ secretAccessKey: 'not-the-secret' }, { accessKeyId: 'AKIAUNKNOWNKEY000000' }]) {
      const store = await openStore(`s3://${server.bucket}/${prefix('creds')}`, { ...backend.options(), ...wrong });
      const t0 = Date.now();
      await expect(store.set('k', new Uint8Array([1]))).rejects.toMatchObject({
        code: 'Storage',
        key: 'k',
        message: expect.stringMatching(/SignatureDoesNotMatch|InvalidAccessKeyId|403/),
      });
      await expect(store.get('k')).rejects.toMatchObject({ code: 'Storage', key: 'k' });
      expect(Date.now() - t0).toBeLessThan(5000);
    }
  });

  test('missing credentials: refused when the store opens, no request sent', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      // vitest.config.ts sets AWS_EC2_METADATA_DISABLED: no instance-metadata fallback here.
      await expect(
        openStore(`s3://${server.bucket}/x`, { endpoint: server.endpoint, allowHttp: true }),
      ).rejects.toMatchObject({ code: 'Storage', message: expect.stringMatching(/no S3 credentials/) });
      // Anonymous requests are allowed to be sent, and the server refuses them.
      const anon = await openStore(`s3://${server.bucket}/x`, {
        endpoint: server.endpoint,
        allowHttp: true,
        anonymous: true,
        retry: FAST_RETRY,
      });
      await expect(anon.get('k')).rejects.toMatchObject({ code: 'Storage', key: 'k' });
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  test('an endpoint nobody listens on fails within the retry budget', async () => {
    const port = await freePort();
    const store = await openStore(`s3://${server.bucket}/x`, {
      ...backend.options(`http://127.0.0.1:${port}`),
      retry: { ...FAST_RETRY, maxRetries: 2 },
    });
    const t0 = Date.now();
    await expect(store.get('k')).rejects.toMatchObject({ code: 'Storage', key: 'k' });
    expect(store.stats().requests).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
