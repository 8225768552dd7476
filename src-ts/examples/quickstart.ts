// `npm start`: create a sharded array, write it, read parts back, print tree() and info().
// (The AnnData conversion job replaces this example later.)

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArray, createGroup, openGroup, slice } from '../index.js';

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'zarrs-node-quickstart-'));
const root = await createGroup(dir, '', { attributes: { description: 'zarrs-node quick start' }, overwrite: true });
const n = 2048;
const arr = await createArray(root.store, 'images/gradient', {
  shape: [n, n],
  dtype: 'float32',
  chunks: [256, 256],
  shards: [1024, 1024],
  compressors: 'zstd:3',
  dimensionNames: ['y', 'x'],
});
const data = new Float32Array(n * n);
for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) data[y * n + x] = Math.sin(x / 64) * Math.cos(y / 64);

let t = performance.now();
await arr.set(null, data);
const writeMs = performance.now() - t;
t = performance.now();
const all = await arr.get();
const readMs = performance.now() - t;
const window = await arr.get([slice(1000, 1004), slice(2000, null, 16)]);
await root.consolidateMetadata();

const reopened = await openGroup(dir, '', { consolidated: 'require' });
console.log(`store: ${dir}\n`);
console.log(await reopened.tree());
console.log('info:', await arr.info());
console.log(
  `wrote ${(data.byteLength / 2 ** 20).toFixed(0)} MiB in ${writeMs.toFixed(0)} ms, read it back in ${readMs.toFixed(0)} ms`,
);
console.log(
  'round trip exact:',
  all.data.every((v, i) => v === data[i]),
);
console.log('window [1000:1004, 2000::16] shape', window.shape, 'first values', Array.from(window.data.slice(0, 3)));
