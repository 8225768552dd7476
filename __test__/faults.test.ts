// Bad input and faults: each gives a ZarrsError with the right code and key, the process stays
// alive, and nothing is left half-written.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  ChecksumError,
  CodecError,
  createArray,
  createGroup,
  InternalError,
  InvalidInputError,
  InvalidMetadataError,
  NotFoundError,
  openArray,
  openGroup,
  openStore,
  ReadOnlyError,
  setMaxAllocBytes,
  slice,
  UnsupportedError,
} from '../src-ts/index.js';
import { native } from '../src-ts/zarr/native.js';
import { ROOT, tmp } from './helpers.js';

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The addon's test-only exports. The ci-profile build the tests load has the `test-panic`
 * feature; the generated binding (what users import) never lists them.
 */
function testHooks(): { __testPanic(where: 'sync' | 'async'): Promise<void> | void } {
  expect('__testPanic' in native).toBe(false);
  expect(readFileSync(join(ROOT, 'src-ts', 'native', 'index.d.ts'), 'utf8')).not.toContain('__testPanic');
  const dir = join(ROOT, 'src-ts', 'native');
  const file = readdirSync(dir).find((f) => f.endsWith('.node'));
  if (!file) throw new Error(`no native addon in ${dir}: run 'npm run build:native'`);
  // same path as the binding's own require, so this is the very module the tests run on
  const addon = createRequire(import.meta.url)(join(dir, file)) as { __testPanic?: unknown };
  if (typeof addon.__testPanic !== 'function') {
    throw new Error(`${file} was built without the test-panic feature: run 'npm run build:native'`);
  }
  return addon as ReturnType<typeof testHooks>;
}

async function filled(dir: string, path: string, opts: Parameters<typeof createArray>[2]) {
  const a = await createArray(dir, path, opts);
  const n = opts.shape.reduce((x, y) => x * y, 1);
  await a.set(
    null,
    Float32Array.from({ length: n }, (_, i) => (i % 97) / 3),
  );
  return a;
}

describe('corrupt data', () => {
  test('truncated chunk', async () => {
    const dir = tmp();
    await filled(dir, 'a', { shape: [64, 64], dtype: 'float32', chunks: [32, 32] });
    const key = join(dir, 'a', 'c', '0', '1');
    truncateSync(key, Math.floor(statSync(key).size / 2));
    await expect((await openArray(dir, 'a')).get()).rejects.toMatchObject({
      name: 'CodecError',
      code: 'Codec',
      key: 'a',
    });
  });

  test('corrupt zstd frame', async () => {
    const dir = tmp();
    await filled(dir, 'a', { shape: [64, 64], dtype: 'float32', chunks: [32, 32] });
    const key = join(dir, 'a', 'c', '1', '0');
    const b = readFileSync(key);
    b.fill(0xab, 8, Math.min(b.length, 40));
    writeFileSync(key, b);
    await expect((await openArray(dir, 'a')).get()).rejects.toBeInstanceOf(CodecError);
  });

  test('corrupt blosc frame', async () => {
    const dir = tmp();
    await filled(dir, 'b', {
      shape: [64, 64],
      dtype: 'float32',
      chunks: [32, 32],
      zarrFormat: 2,
      compressors: 'blosc',
    });
    const key = join(dir, 'b', '0.0');
    const b = readFileSync(key);
    b.writeUInt32LE(0xffffffff, 4); // blosc header: uncompressed size
    b.fill(0x5a, 16, 48);
    writeFileSync(key, b);
    await expect((await openArray(dir, 'b')).get()).rejects.toBeInstanceOf(CodecError);
  });

  test('shard index pointing past the shard', async () => {
    const dir = tmp();
    await filled(dir, 's', { shape: [16, 16], dtype: 'float32', chunks: [8, 8], shards: [16, 16] });
    const key = join(dir, 's', 'c', '0', '0');
    const b = readFileSync(key);
    const indexStart = b.length - (4 * 16 + 4);
    b.writeBigUInt64LE(BigInt(b.length + 1000), indexStart); // first inner chunk offset
    b.writeUInt32LE(crc32c(b.subarray(indexStart, b.length - 4)), b.length - 4);
    writeFileSync(key, b);
    const a = await openArray(dir, 's');
    await expect(a.get()).rejects.toBeInstanceOf(CodecError);
    await expect(a.get([0, 0])).rejects.toBeInstanceOf(CodecError);
    // Untouched inner chunks still read.
    expect((await a.get([15, 15])).data[0]).toBeCloseTo((255 % 97) / 3);
  });

  test('crc32c mismatch in a shard index and in an inner chunk', async () => {
    const dir = tmp();
    await filled(dir, 'i', { shape: [16, 16], dtype: 'float32', chunks: [8, 8], shards: [16, 16] });
    let key = join(dir, 'i', 'c', '0', '0');
    let b = readFileSync(key);
    b[b.length - 1] ^= 0xff;
    writeFileSync(key, b);
    await expect((await openArray(dir, 'i')).get()).rejects.toBeInstanceOf(ChecksumError);

    await filled(dir, 'j', { shape: [8, 8], dtype: 'float32', chunks: [8, 8], compressors: ['zstd', 'crc32c'] });
    key = join(dir, 'j', 'c', '0', '0');
    b = readFileSync(key);
    b[b.length - 1] ^= 0x01; // the chunk's own crc32c
    writeFileSync(key, b);
    await expect((await openArray(dir, 'j')).get()).rejects.toMatchObject({ code: 'Checksum', key: 'j' });
  });

  test('zstd frames we write carry the content size', async () => {
    const dir = tmp();
    await filled(dir, 'z', { shape: [32, 32], dtype: 'float32', chunks: [32, 32] });
    const b = readFileSync(join(dir, 'z', 'c', '0', '0'));
    expect(b.readUInt32LE(0)).toBe(0xfd2fb528);
    const fhd = b[4];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd >> 5) & 1;
    expect(fcsFlag !== 0 || singleSegment === 1).toBe(true);
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
    const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3];
    const size =
      fcsBytes === 1
        ? b[at]
        : fcsBytes === 2
          ? b.readUInt16LE(at) + 256
          : fcsBytes === 4
            ? b.readUInt32LE(at)
            : Number(b.readBigUInt64LE(at));
    expect(size).toBe(32 * 32 * 4);
  });
});

describe('bad metadata', () => {
  test('invalid or missing zarr.json / .zarray', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'bad'), { recursive: true });
    writeFileSync(join(dir, 'bad', 'zarr.json'), '{"zarr_format": 3, "node_type": "array", ');
    await expect(openArray(dir, 'bad')).rejects.toMatchObject({ code: 'InvalidMetadata', key: 'bad/zarr.json' });
    mkdirSync(join(dir, 'v2'), { recursive: true });
    writeFileSync(join(dir, 'v2', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [4] }));
    await expect(openArray(dir, 'v2')).rejects.toBeInstanceOf(InvalidMetadataError);
    mkdirSync(join(dir, 'nt'), { recursive: true });
    writeFileSync(join(dir, 'nt', 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'table' }));
    await expect(openArray(dir, 'nt')).rejects.toBeInstanceOf(InvalidMetadataError);
    await expect(openArray(dir, 'missing')).rejects.toMatchObject({ name: 'NotFoundError', key: 'missing' });
    await expect(openGroup(dir, 'missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  test('unknown codec and unknown data type', async () => {
    const dir = tmp();
    const a = await createArray(dir, 'a', { shape: [4], dtype: 'int32', chunks: [2] });
    const meta = JSON.parse(readFileSync(join(dir, 'a', 'zarr.json'), 'utf8'));
    mkdirSync(join(dir, 'codec'));
    writeFileSync(
      join(dir, 'codec', 'zarr.json'),
      JSON.stringify({ ...meta, codecs: [...meta.codecs, { name: 'lzma9' }] }),
    );
    await expect(openArray(dir, 'codec')).rejects.toBeInstanceOf(UnsupportedError);
    mkdirSync(join(dir, 'dtype'));
    writeFileSync(join(dir, 'dtype', 'zarr.json'), JSON.stringify({ ...meta, data_type: 'complex512' }));
    await expect(openArray(dir, 'dtype')).rejects.toMatchObject({ code: 'Unsupported', key: 'dtype' });
    await expect(createArray(dir, 'x', { shape: [2], dtype: 'complex64' as never })).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    await expect(createArray(dir, 'y', { shape: [2], dtype: 'int8', compressors: 'lzma' })).rejects.toBeInstanceOf(
      UnsupportedError,
    );
    expect(a.shape).toEqual([4]);
  });

  test('absurd shapes are refused before allocating', async () => {
    const dir = tmp();
    await expect(createArray(dir, 'huge', { shape: [2 ** 40, 2 ** 40], dtype: 'float64' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(
      createArray(dir, 'chunk', { shape: [2 ** 40], dtype: 'float64', chunks: [2 ** 40] }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    // A valid array whose full read would need 8 PiB: refused cleanly, process alive.
    const big = await createArray(dir, 'big', { shape: [2 ** 30, 2 ** 20], dtype: 'float64', chunks: [1024, 1024] });
    await expect(big.get()).rejects.toMatchObject({ code: 'InvalidInput', key: 'big' });
    // The cap is configurable.
    setMaxAllocBytes(1024);
    try {
      await expect(big.get([0, null])).rejects.toBeInstanceOf(InvalidInputError);
      expect((await big.get([0, slice(0, 100)])).shape).toEqual([100]);
    } finally {
      setMaxAllocBytes(0);
    }
    expect((await big.get([0, 0])).data[0]).toBe(0);
  });
});

describe('keys, permissions, panics', () => {
  test('keys with .. or absolute paths are refused and nothing escapes the store', async () => {
    const parent = tmp();
    const dir = join(parent, 'store');
    const store = await openStore(dir);
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a\\..\\b']) {
      await expect(store.set(key, new Uint8Array([1]))).rejects.toMatchObject({ code: 'InvalidInput' });
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(createArray(dir, '../outside', { shape: [1], dtype: 'int8' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(openArray(dir, 'a/../../x')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(createGroup(dir, 'g/./h')).rejects.toBeInstanceOf(InvalidInputError);
    expect(readdirSync(parent)).toEqual([]);
  });

  test('writes to a read-only store or group fail with ReadOnly', async () => {
    const dir = tmp();
    await createArray(dir, 'a', { shape: [4], dtype: 'int8' });
    const ro = await openStore(dir, { readOnly: true });
    await expect(createArray(ro, 'b', { shape: [4], dtype: 'int8' })).rejects.toBeInstanceOf(ReadOnlyError);
    const a = await openArray(ro, 'a');
    await expect(a.set(null, new Int8Array(4))).rejects.toMatchObject({ code: 'ReadOnly', key: 'a' });
    await expect(ro.set('k', new Uint8Array(1))).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(a.setAttributes({ x: 1 })).rejects.toBeInstanceOf(ReadOnlyError);
    const g = await openGroup(dir, '', { mode: 'r' });
    await expect(g.setAttributes({ x: 1 })).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(g.createArray('c', { shape: [1], dtype: 'int8' })).rejects.toBeInstanceOf(ReadOnlyError);
    expect(existsSync(join(dir, 'b'))).toBe(false);
    expect(existsSync(join(dir, 'c'))).toBe(false);
  });

  test('a closed store fails clearly', async () => {
    const store = await openStore('memory://closing');
    const a = await createArray(store, 'a', { shape: [2], dtype: 'int8' });
    store.close();
    await expect(a.get()).rejects.toThrow(/closed/);
    await expect(store.list()).rejects.toBeInstanceOf(InvalidInputError);
  });

  test('a Rust panic becomes an Internal error and the process lives on', async () => {
    const hooks = testHooks();
    expect(() => hooks.__testPanic('sync')).toThrow(/panic/);
    const { fromNative } = await import('../src-ts/zarr/errors.js');
    try {
      await hooks.__testPanic('async');
      expect.unreachable();
    } catch (e) {
      expect(fromNative(e)).toBeInstanceOf(InternalError);
    }
    expect((await (await createArray('memory://after-panic', 'a', { shape: [1], dtype: 'int8' })).get()).shape).toEqual(
      [1],
    );
  });
});

test('a writer killed mid-write leaves no partial chunk behind', async () => {
  const dir = tmp();
  const script = join(dir, 'writer.mjs');
  writeFileSync(
    script,
    `import { createArray } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};
const a = await createArray(${JSON.stringify(join(dir, 'store'))}, 'x', { shape: [4096, 4096], dtype: 'float64', chunks: [256, 256], compressors: null });
const v = new Float64Array(4096 * 4096).fill(1.5);
process.stdout.write('ready\\n');
for (;;) await a.set(null, v);
`,
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const chunkDir = join(dir, 'store', 'x', 'c');
  // Kill while chunks are being written (some exist, the loop keeps rewriting them).
  for (let i = 0; i < 200 && !(existsSync(chunkDir) && readdirSync(chunkDir).length > 3); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const store = await openStore(join(dir, 'store'));
  const keys = (await store.list('x')).filter((k) => k.includes('/c/'));
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) {
    // Every visible chunk is complete: uncompressed 256x256 float64.
    expect(statSync(join(dir, 'store', k)).size, k).toBe(256 * 256 * 8);
  }
  const a = await openArray(store, 'x');
  const { data } = await a.get();
  expect((data as Float64Array).every((v) => v === 1.5 || v === 0)).toBe(true);
});
