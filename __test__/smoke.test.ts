// The smallest end-to-end check: runs on every platform's binding in CI (npm run test:smoke).
import { expect, test } from 'vitest';
import { createArray, openArray, slice } from '../src-ts/index.js';

test('create, write, read a sharded array in memory', async () => {
  const a = await createArray('memory://smoke', 'x', { shape: [6, 8], dtype: 'int32', chunks: [2, 4], shards: [4, 8] });
  await a.set(
    null,
    Int32Array.from({ length: 48 }, (_, i) => i),
  );
  const b = await openArray<'int32'>('memory://smoke', 'x');
  const { data, shape } = await b.get([slice(1, 3), slice(null, null, 3)]);
  expect(shape).toEqual([2, 3]);
  expect(Array.from(data)).toEqual([8, 11, 14, 16, 19, 22]);
});
