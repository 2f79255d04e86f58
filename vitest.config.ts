import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'scripts/device/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    // Stage tests spawn processes and train tiny models: generous, but bounded.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
