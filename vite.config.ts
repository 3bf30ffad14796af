import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/harness/sequencer.ts';

export default defineConfig({
  plugins: [sveltekit()],
  build: { chunkSizeWarningLimit: 4000 },
  test: {
    include: ['{core,ingest,edge,web,geo-data,test,bench}/**/*.test.ts'],
    exclude: ['node_modules/**', 'build/**'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['test/harness/global-setup.ts'],
    // PGlite clusters created in test processes start from one initialised per run (not initdb each time).
    setupFiles: ['test/harness/pglite-template.ts'],
    // 2-core machines: two test files at a time (three was measured slower: 653 s against ~560 s, the
    // software-rendered browser tests starve).
    maxWorkers: 2,
    // Longest files first (recorded durations), so no long file starts last and runs alone.
    sequence: { sequencer: LongestFirst },
  },
});
