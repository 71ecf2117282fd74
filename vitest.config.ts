import { defineConfig } from 'vitest/config';

// `npm test`: needs only Node. Everything that needs rpm, dnf, Puppet... lives in test/system.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // hooks that build or remove large fixtures (packages, repositories) get the time a test gets:
    // a loaded machine must not turn the suite red
    hookTimeout: 60_000,
  },
});
