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
    // expect.poll waits for what a page or the platform shows; vitest's default of 1 s failed under a loaded
    // 2-core machine (a panel's fetch took longer). A test that claims a latency sets its own bound.
    expect: { poll: { timeout: 15_000, interval: 100 } },
    hookTimeout: 180_000,
    globalSetup: ['test/harness/global-setup.ts'],
    // PGlite clusters created in test processes start from one initialised per run (not initdb each time);
    // ONEGRID_TEST_CPU=FILE records each file's CPU (test/harness/cpu-meter.ts).
    setupFiles: ['test/harness/pglite-template.ts', 'test/harness/cpu-meter.ts'],
    // 2-core machines: three test files at a time, of which at most two drive Chromium (the sequencer spreads
    // them; see test/harness/sequencer.ts). The suite waits on software-rendered frames more than on the CPU
    // (~1.35 of 2 cores busy with two files at a time), so a third file fills the gaps: 486 s against 535 s
    // for two at a time, and 515 s for three without the spread (three long browser files then start at once
    // and each takes 1.5×). Three used to be slower (653 s against ~560 s) while the wall redrew continuously.
    maxWorkers: 3,
    // Longest files first (recorded durations), so no long file starts last and runs alone.
    sequence: { sequencer: LongestFirst },
  },
});
