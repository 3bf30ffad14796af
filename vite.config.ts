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
    // PGlite clusters created in test processes start from one initialised per run (not initdb each time);
    // ONEGRID_TEST_CPU=FILE records each file's CPU (test/harness/cpu-meter.ts).
    setupFiles: ['test/harness/pglite-template.ts', 'test/harness/cpu-meter.ts'],
    // 2-core machines: two test files at a time. Three were slower while the wall redrew continuously (653 s
    // against ~560 s: the software-rendered browser tests starved) and are no faster now (515 s against 535 s,
    // within this machine's swing; the long browser files then start three at once and each takes 1.5×).
    maxWorkers: 2,
    // Longest files first (recorded durations), so no long file starts last and runs alone.
    sequence: { sequencer: LongestFirst },
  },
});
