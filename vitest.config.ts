import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['__test__/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The native pool already uses every core; parallel test files would only contend.
    fileParallelism: false,
  },
});
