import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two files at a time: most of the suite's wall time is spent in Python reference processes
    // (one core each), not in the native pool.
    fileParallelism: true,
    maxWorkers: 2,
    // Object stores without credentials must fail at once, never wait on a cloud metadata
    // endpoint (no such address is reachable, or allowed, from the test machines).
    env: { AWS_EC2_METADATA_DISABLED: 'true', NO_GCE_CHECK: 'true' },
  },
});
