import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // test files run one after another: the integration tests bring up lab
    // scenarios (namespaces, bridge, fixed service ports) and time faults on a
    // 2-core machine; running them side by side makes both slow and flaky
    fileParallelism: false,
  },
});
