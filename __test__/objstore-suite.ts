// The object-store suite shared by the S3 (moto) and Azure (Azurite) test files: arrays of
// every layout round-trip, exact request counts, multipart uploads, faults through a proxy.

import { expect, test } from 'vitest';
import {
  consolidateMetadata,
  createArray,
  createGroup,
  openArray,
  openGroup,
  openStore,
  type Store,
  type StoreOptions,
  slice,
} from '../src-ts/index.js';
import { makeData } from './helpers.js';
import type { FaultProxy } from './servers.js';

export interface Backend {
  /** `s3` or `azure`: what differs is named by it. */
  kind: 's3' | 'azure';
  /** Store URL for a key prefix. */
  url(prefix: string): string;
  /** Credentials and endpoint, pointing at the server or, with `origin`, at a proxy in front. */
  options(origin?: string): StoreOptions;
  /** The server's origin (what a proxy forwards to). */
  origin: string;
}

let seq = 0;
/** A fresh key prefix per test. */
export function prefix(name: string): string {
  seq++;
  return `${name}-${process.pid}-${seq}`;
}

/** Fast retries so fault tests take milliseconds. */
export const FAST_RETRY = { backoff: { initialMs: 5, maxMs: 20 }, requestTimeoutMs: 2000 } as const;

async function sharded64(b: Backend, p: string): Promise<Uint16Array> {
  const store = await openStore(b.url(p), b.options());
  const a = await createArray(store, 's', { shape: [64, 64], dtype: 'uint16', chunks: [8, 8], shards: [32, 32] });
  const data = Uint16Array.from({ length: 64 * 64 }, (_, i) => i);
  await a.set(null, data);
  return data;
}

export function objectStoreSuite(get: () => Backend, getProxy: () => FaultProxy): void {
  test('v2, v3 and sharded arrays round-trip; partial reads and writes', async () => {
    const b = get();
    const p = prefix('arrays');
    const layouts = [
      { name: 'v2', opts: { zarrFormat: 2 as const, chunks: [16, 16] } },
      { name: 'v3', opts: { zarrFormat: 3 as const, chunks: [16, 16] } },
      { name: 'sharded', opts: { zarrFormat: 3 as const, chunks: [8, 8], shards: [32, 32] } },
    ];
    const store = await openStore(b.url(p), b.options());
    const data = makeData('float32', 48 * 40) as Float32Array;
    for (const { name, opts } of layouts) {
      const a = await createArray(store, name, { shape: [48, 40], dtype: 'float32', ...opts });
      await a.set(null, data);
      await a.set([slice(10, 12), slice(0, 3)], 99);
    }
    const again = await openStore(b.url(p), b.options());
    for (const { name } of layouts) {
      const a = await openArray(again, name);
      const all = await a.get();
      const want = Float32Array.from(data);
      for (const r of [10, 11]) for (const c of [0, 1, 2]) want[r * 40 + c] = 99;
      expect(Array.from(all.data as Float32Array), name).toEqual(Array.from(want));
      const part = await a.get([slice(9, 13), 2]);
      expect(Array.from(part.data as Float32Array), name).toEqual([want[9 * 40 + 2], 99, 99, want[12 * 40 + 2]]);
    }
    const str = await createArray(again, 'str', { shape: [5], dtype: 'string' });
    await str.set(null, ['a', 'bb', '', 'ü', 'x']);
    expect((await (await openArray(store, 'str')).get()).data).toEqual(['a', 'bb', '', 'ü', 'x']);
    expect(await again.list('v3')).toEqual([
      'v3/c/0/0',
      'v3/c/0/1',
      'v3/c/0/2',
      'v3/c/1/0',
      'v3/c/1/1',
      'v3/c/1/2',
      'v3/c/2/0',
      'v3/c/2/1',
      'v3/c/2/2',
      'v3/zarr.json',
    ]);
  });

  test('a consolidated hierarchy opens with exactly one GET (v3; v2 with zarrFormat: 2)', async () => {
    const b = get();
    for (const zarrFormat of [3, 2] as const) {
      const p = prefix(`cons-v${zarrFormat}`);
      const store = await openStore(b.url(p), b.options());
      const root = await createGroup(store, '', { zarrFormat, attributes: { title: 'remote' } });
      const obs = await root.createGroup('obs');
      await obs.createArray('n', { shape: [4], dtype: 'int32' });
      await root.createArray('X', { shape: [4, 3], dtype: 'float32', chunks: [2, 3] });
      await consolidateMetadata(store);
      const fresh = await openStore(b.url(p), b.options());
      const g = await openGroup(fresh, '', { consolidated: 'require', zarrFormat });
      expect(fresh.stats().requests, `v${zarrFormat}`).toBe(1);
      expect(g.attrs).toEqual({ title: 'remote' });
      expect((await g.members()).map((m) => m.name)).toEqual(['X', 'obs']);
      expect((await (await g.openGroup('obs')).openArray('n')).shape).toEqual([4]);
      expect(fresh.stats().requests, `v${zarrFormat}: members and children from the consolidated copy`).toBe(1);
    }
  });

  test('sharded partial reads: shard indexes plus one ranged GET per run of adjacent inner chunks', async () => {
    const b = get();
    const p = prefix('ranges');
    const data = await sharded64(b, p);
    // Azure has no suffix ranges: a shard index (at the end) costs a HEAD and a ranged GET.
    const index = b.kind === 'azure' ? 2 : 1;
    const open = async (o: StoreOptions) => {
      const s = await openStore(b.url(p), { ...b.options(), ...o });
      return { s, a: await openArray(s, 's') };
    };
    const measure = async (s: Store, f: () => Promise<unknown>) => {
      s.resetStats();
      await f();
      return s.stats();
    };

    // Rows 0..8 of shard (0,0): four inner chunks stored back to back, one run.
    let { s, a } = await open({ coalesceGapBytes: 0 });
    let st = await measure(s, async () => {
      const c = await a.get([slice(0, 8), slice(0, 32)]);
      expect((c.data as Uint16Array)[8 * 32 - 1]).toBe(data[7 * 64 + 31]);
    });
    expect(st.requests).toBe(index + 1);
    // The same shard again: its index is cached; one GET for the one run.
    st = await measure(s, () => a.get([slice(8, 16), slice(0, 32)]));
    expect(st.requests).toBe(1);

    // Rows 0 and 17 of the whole width: two shards; in each, inner-chunk rows 0 and 2 of four
    // inner chunks each (8 per shard, 16 in all), i.e. two runs per shard, which the default
    // gap merges into one.
    const rows = [0, 17];
    const check = (c: { data: unknown }) => {
      const got = c.data as Uint16Array;
      expect(Array.from(got.subarray(0, 64))).toEqual(Array.from(data.subarray(0, 64)));
      expect(Array.from(got.subarray(64))).toEqual(Array.from(data.subarray(17 * 64, 18 * 64)));
    };
    ({ s, a } = await open({ coalesceGapBytes: 0 }));
    st = await measure(s, async () => check(await a.getOrthogonal([rows, null])));
    expect(st.requests, 'touching ranges only').toBe(2 * index + 4);
    ({ s, a } = await open({}));
    st = await measure(s, async () => check(await a.getOrthogonal([rows, null])));
    expect(st.requests, 'default gap').toBe(2 * index + 2);
    const coalescedBytes = st.bytesRead;
    ({ s, a } = await open({ coalesce: false }));
    st = await measure(s, async () => check(await a.getOrthogonal([rows, null])));
    expect(st.requests, 'no coalescing: one GET per inner chunk').toBe(2 * index + 16);
    // Bytes: never a whole shard per inner chunk; the merged gap is what coalescing costs.
    expect(st.bytesRead).toBeLessThanOrEqual(coalescedBytes);
    // Points: the same accounting.
    ({ s, a } = await open({ coalesceGapBytes: 0 }));
    st = await measure(s, async () => {
      const c = await a.getCoordinates([
        [0, 0, 40],
        [0, 9, 63],
      ]);
      expect(Array.from(c.data as Uint16Array)).toEqual([data[0], data[9], data[40 * 64 + 63]]);
    });
    expect(st.requests).toBe(2 * index + 2);
  });

  test('partial reads of a partly written shard: absent inner chunks read as the fill value', async () => {
    const b = get();
    const p = prefix('sparse-shard');
    const store = await openStore(b.url(p), b.options());
    const a = await createArray(store, 's', {
      shape: [64, 64],
      dtype: 'int32',
      chunks: [8, 8],
      shards: [32, 32],
      fillValue: -1,
    });
    // Two inner chunks of shard (0,0) written; its other 14 are absent from its index.
    await a.set([slice(0, 8), slice(0, 8)], 5);
    await a.set([slice(8, 16), slice(24, 32)], 7);
    const expected = (r: number, c: number) => (r < 8 && c < 8 ? 5 : r >= 8 && r < 16 && c >= 24 && c < 32 ? 7 : -1);
    const s = await openStore(b.url(p), b.options());
    const fresh = await openArray(s, 's');
    // A block across written and absent inner chunks, then points and an orthogonal gather.
    const block = await fresh.get([slice(4, 20), slice(4, 28)]);
    const want: number[] = [];
    for (let r = 4; r < 20; r++) for (let c = 4; c < 28; c++) want.push(expected(r, c));
    expect(Array.from(block.data as Int32Array)).toEqual(want);
    const pts = await fresh.getCoordinates([
      [0, 9, 20, 40],
      [0, 25, 20, 40],
    ]);
    expect(Array.from(pts.data as Int32Array)).toEqual([5, 7, -1, -1]);
    const orth = await fresh.getOrthogonal([
      [3, 12],
      [2, 30],
    ]);
    expect(Array.from(orth.data as Int32Array)).toEqual([5, -1, -1, 7]);
    // Written through the same handle: the indexes it read before are forgotten, and the inner
    // chunks that moved in the shard are read from where they are now.
    const noise = Int32Array.from({ length: 64 }, (_, i) => (i * 2654435761) | 0);
    await fresh.set([slice(0, 8), slice(0, 8)], noise);
    await fresh.set([slice(16, 24), slice(8, 16)], 3);
    const after = await fresh.get([slice(6, 18), slice(6, 26)]);
    const wantAfter: number[] = [];
    for (let r = 6; r < 18; r++)
      for (let c = 6; c < 26; c++)
        wantAfter.push(r < 8 && c < 8 ? noise[r * 8 + c] : r >= 16 && c >= 8 && c < 16 ? 3 : expected(r, c));
    expect(Array.from(after.data as Int32Array)).toEqual(wantAfter);
    // Absent inner chunks cost no request: the index, then one GET per run of present ones.
    s.resetStats();
    const again = await openArray(s, 's');
    s.resetStats();
    await again.get([slice(24, 32), slice(0, 32)]);
    expect(s.stats().requests, 'an index whose 4 inner chunks are all absent').toBe(b.kind === 'azure' ? 2 : 1);
  });

  test('whole-object reads: one plain GET per shard or chunk, no index request first', async () => {
    const b = get();
    const p = prefix('whole');
    const data = await sharded64(b, p);
    const s = await openStore(b.url(p), b.options());
    const a = await openArray(s, 's');
    s.resetStats();
    expect(Array.from((await a.get()).data as Uint16Array)).toEqual(Array.from(data));
    // Four 32x32 shards, covered whole: each shard's index is checked from its own bytes.
    expect(s.stats().requests).toBe(4);
    s.resetStats();
    const corner = await a.get([slice(32, 64), slice(32, 64)]);
    expect((corner.data as Uint16Array)[0]).toBe(data[32 * 64 + 32]);
    expect(s.stats().requests).toBe(1);

    // Unsharded and compressed (zstd), zarrs decodes whole chunks even for part of one: rows
    // 5..40 touch chunk rows 0, 1 and 2 of four chunk columns, one GET each.
    const c = await createArray(s, 'c', { shape: [64, 64], dtype: 'uint16', chunks: [16, 16] });
    await c.set(null, data);
    s.resetStats();
    const part = await (await openArray(s, 'c')).get([slice(5, 40), null]);
    expect(Array.from(part.data as Uint16Array)).toEqual(Array.from(data.subarray(5 * 64, 40 * 64)));
    expect(s.stats().requests, 'its metadata, then 12 chunks').toBe(1 + 12);
    // Uncompressed chunks are read in part (a ranged GET per chunk row touched), never whole.
    const u = await createArray(s, 'u', { shape: [64, 64], dtype: 'uint16', chunks: [16, 16], compressors: null });
    await u.set(null, data);
    s.resetStats();
    const one = await (await openArray(s, 'u')).get([5, 7]);
    expect(one.data).toEqual(Uint16Array.from([data[5 * 64 + 7]]));
    expect(s.stats().bytesRead).toBeLessThan(16 * 16 * 2);
  });

  test('values above the multipart threshold are uploaded in parts', async () => {
    const b = get();
    const p = prefix('multipart');
    const mib = 2 ** 20;
    const store = await openStore(b.url(p), {
      ...b.options(),
      multipartThreshold: 5 * mib,
      multipartPartSize: 5 * mib,
    });
    const value = Uint8Array.from({ length: 11 * mib }, (_, i) => (i * 31) % 251);
    await store.set('big', value);
    // S3: create + 3 parts + complete. Azure: 3 blocks + the block list.
    expect(store.stats()).toMatchObject({ requests: b.kind === 's3' ? 5 : 4, bytesWritten: 11 * mib });
    store.resetStats();
    const back = await store.get('big');
    expect(back?.length).toBe(value.length);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(value))).toBe(true);
    expect(store.stats()).toMatchObject({ requests: 1, bytesRead: 11 * mib });
  });

  test('transient faults (500, 503, resets, stalls) are retried within the budget', async () => {
    const b = get();
    const proxy = getProxy();
    const p = prefix('transient');
    const store = await openStore(b.url(p), { ...b.options(proxy.url), retry: { ...FAST_RETRY, maxRetries: 3 } });
    const value = new Uint8Array([1, 2, 3, 4]);
    proxy.faults([{ method: 'PUT', times: 2, fault: { kind: 'status', status: 500 } }]);
    await store.set('k', value);
    expect(store.stats().requests).toBe(3);
    for (const fault of [{ kind: 'status', status: 503 }, { kind: 'reset' }, { kind: 'stall', ms: 5000 }] as const) {
      proxy.faults([{ method: 'GET', times: 2, fault }]);
      store.resetStats();
      const t0 = Date.now();
      const retry = fault.kind === 'stall' ? { ...FAST_RETRY, requestTimeoutMs: 300 } : FAST_RETRY;
      const s2 = await openStore(b.url(p), { ...b.options(proxy.url), retry: { ...retry, maxRetries: 3 } });
      expect(Array.from((await s2.get('k')) as Uint8Array), fault.kind).toEqual([1, 2, 3, 4]);
      expect(s2.stats().requests, fault.kind).toBe(3);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
    proxy.faults([]);
  });

  test('past the retry budget: a Storage error naming the key, and nothing half-written', async () => {
    const b = get();
    const proxy = getProxy();
    const p = prefix('budget');
    await sharded64(b, p);
    const opts = { ...b.options(proxy.url), retry: { ...FAST_RETRY, maxRetries: 2 } };

    // Reads: every GET of shard c/0/1 fails.
    proxy.faults([{ method: 'GET', path: '/s/c/0/1', fault: { kind: 'status', status: 503 } }]);
    const a = await openArray(await openStore(b.url(p), opts), 's');
    const t0 = Date.now();
    await expect(a.get([0, slice(30, 34)])).rejects.toMatchObject({
      name: 'StorageError',
      code: 'Storage',
      key: 's/c/0/1',
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(proxy.log.filter((l) => l.url.includes('/s/c/0/1') && l.status === 503).length).toBe(3);

    // Whole-shard writes: the PUT of shard c/1/1 fails; the old shard stays as it was.
    proxy.faults([{ method: 'PUT', path: '/s/c/1/1', fault: { kind: 'status', status: 500 } }]);
    const w = await openArray(await openStore(b.url(p), opts), 's');
    await expect(w.set([slice(32, 64), slice(32, 64)], 7)).rejects.toMatchObject({ code: 'Storage', key: 's/c/1/1' });
    proxy.faults([]);
    const after = await openArray(await openStore(b.url(p), b.options()), 's');
    expect((await after.get([40, 40])).data[0]).toBe(40 * 64 + 40);

    // Multipart: all parts uploaded, the commit fails: no object appears.
    const mib = 2 ** 20;
    const mp = await openStore(b.url(p), { ...opts, multipartThreshold: 5 * mib, multipartPartSize: 5 * mib });
    proxy.faults([
      b.kind === 's3'
        ? { method: 'POST', path: /uploadId=/, fault: { kind: 'status', status: 500 } }
        : { method: 'PUT', path: 'comp=blocklist', fault: { kind: 'status', status: 500 } },
    ]);
    await expect(mp.set('big', new Uint8Array(11 * mib))).rejects.toMatchObject({ code: 'Storage', key: 'big' });
    proxy.faults([]);
    const check = await openStore(b.url(p), b.options());
    expect(await check.get('big')).toBeNull();
    expect(await check.list('')).not.toContain('big');
  });
}
