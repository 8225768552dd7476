import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The native pool already uses every core; parallel test files would only contend.
    fileParallelism: false,
    // Object stores without credentials must fail at once, never wait on a cloud metadata
    // endpoint (no such address is reachable, or allowed, from the test machines).
    env: { AWS_EC2_METADATA_DISABLED: 'true', NO_GCE_CHECK: 'true' },
  },
});
