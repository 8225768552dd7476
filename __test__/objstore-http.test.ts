// Read-only http:// stores against a plain HTTP server with Range support on loopback:
// consolidated hierarchies open with one GET and need no listing; sharded reads use ranges.
// Request counts are checked twice: by Store.stats() and by the server itself.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { consolidateMetadata, createGroup, openArray, openGroup, openStore, slice } from '../src-ts/index.js';
import { makeData, tmp } from './helpers.js';
import { FAST_RETRY } from './objstore-suite.js';
import { type FaultProxy, type RangeServer, startFaultProxy, startRangeServer } from './servers.js';

let dir: string;
let server: RangeServer;
let proxy: FaultProxy;
const X = makeData('float32', 64 * 64) as Float32Array;

beforeAll(async () => {
  dir = tmp('zn-http-');
  for (const zarrFormat of [2, 3] as const) {
    const root = await createGroup(dir, `v${zarrFormat}`, { zarrFormat, attributes: { format: zarrFormat } });
    const obs = await root.createGroup('obs');
    const n = await obs.createArray('n', { shape: [5], dtype: 'int64' });
    await n.set(null, BigInt64Array.of(1n, 2n, 3n, 4n, 5n));
    const x = await root.createArray('X', {
      shape: [64, 64],
      dtype: 'float32',
      chunks: [8, 8],
      ...(zarrFormat === 3 ? { shards: [32, 32] } : {}),
    });
    await x.set(null, X);
    await consolidateMetadata(dir, `v${zarrFormat}`);
  }
  server = await startRangeServer(dir);
  proxy = await startFaultProxy(server.url);
});

afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
});

describe('HTTP (range server)', () => {
  test.each([3, 2] as const)('v%s: open with one GET, read everything with no listing', async (zarrFormat) => {
    const store = await openStore(`${server.url}/v${zarrFormat}`);
    server.reset();
    const g = await openGroup(store, '', { consolidated: 'require', zarrFormat });
    expect(store.stats().requests).toBe(1);
    expect(server.counts.total).toBe(1);
    expect(g.attrs).toEqual({ format: zarrFormat });
    const n = await (await g.openGroup('obs')).openArray('n');
    expect(Array.from((await n.get()).data as BigInt64Array)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const x = await g.openArray('X');
    expect(Array.from((await x.get()).data as Float32Array)).toEqual(Array.from(X));
    expect(store.stats().requests).toBe(server.counts.total);
    expect(store.readOnly).toBe(true);
    await expect(store.set('k', new Uint8Array(1))).rejects.toMatchObject({ code: 'ReadOnly' });
    expect(await store.get('missing')).toBeNull();
    await expect(openArray(store, 'nothing')).rejects.toMatchObject({ code: 'NotFound' });
  });

  test('sharded partial reads: one index GET per shard, one ranged GET per run', async () => {
    const store = await openStore(`${server.url}/v3`, { coalesceGapBytes: 0 });
    const x = await openArray(store, 'X');
    store.resetStats();
    server.reset();
    const c = await x.getOrthogonal([[1, 20, 33], null]);
    const got = c.data as Float32Array;
    for (const [i, r] of [1, 20, 33].entries()) {
      expect(Array.from(got.subarray(i * 64, (i + 1) * 64))).toEqual(Array.from(X.subarray(r * 64, (r + 1) * 64)));
    }
    // Shards (0,0) (0,1) (1,0) (1,1): four suffix-range index reads. Rows 1 and 20 are
    // inner-chunk rows 0 and 2 of the top shards (two runs each), row 33 is row 0 of the
    // bottom shards (one run each).
    expect(store.stats().requests).toBe(4 + 2 * 2 + 2);
    expect(server.counts).toMatchObject({ total: 10, ranged: 10 });
  });

  test('retries through a proxy that fails twice', async () => {
    const store = await openStore(`${proxy.url}/v3`, { retry: { ...FAST_RETRY, maxRetries: 2 } });
    proxy.faults([{ method: 'GET', times: 2, fault: { kind: 'status', status: 503 } }]);
    const x = await openArray(store, 'X');
    expect((await x.get([slice(0, 1), slice(0, 2)])).data).toEqual(X.subarray(0, 2));
    proxy.faults([{ method: 'GET', fault: { kind: 'status', status: 503 } }]);
    await expect(x.get([40, 40])).rejects.toMatchObject({ code: 'Storage', key: 'X/c/1/1' });
    proxy.faults([]);
  });
});
