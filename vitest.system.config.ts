import { defineConfig } from 'vitest/config';

// `npm run test:system`: the same artefacts checked by the real tools (rpm, rpmlint, dnf, ...).
// KPKG_SYSTEM_TESTS=required turns a missing tool into a failure instead of a skip.
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
