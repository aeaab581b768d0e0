import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores, which on the 2-core
    // CI machine runs the files one at a time with a core idle
    maxWorkers: Math.max(2, availableParallelism()),
  },
});
