// The benchmark harness runs in smoke mode (tiny data, every peer) so it never rots. Timings are
// never asserted: these machines are noisy, and bench/ reports ratios instead.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, tmp } from './helpers.js';

test('bench/run.mjs --smoke runs every peer and writes a report', () => {
  const out = tmp('zn-bench-');
  execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'run.mjs'), '--smoke', '--out', out], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const md = readFileSync(join(out, 'smoke.md'), 'utf8');
  for (const peer of ['zarrs-node get()', 'raw zarrs (Rust)', 'zarrita.js']) expect(md).toContain(peer);
  expect(md).toMatch(/\| sharded \|/);
  expect(md).toMatch(/\| chunked \|/);
});
