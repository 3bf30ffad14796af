import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureSystemPackages } from './system.ts';

/**
 * Vitest global setup, once per run: system programs present (installed when root on Debian), and a folder
 * for this run's shared fixtures (the seeded DATA_DIR template of test/harness/platform.ts), removed at the end.
 * Workers are forked after this and inherit the environment.
 */
export default function setup(): () => void {
  ensureSystemPackages();
  // A folder given from outside (ONEGRID_TEST_RUN_DIR) is made if missing and kept afterwards: runs of single
  // files then share its fixtures (the seeded template is made once, not by every run).
  if (process.env.ONEGRID_TEST_RUN_DIR) {
    mkdirSync(process.env.ONEGRID_TEST_RUN_DIR, { recursive: true });
    return () => {};
  }
  const run = mkdtempSync(path.join(tmpdir(), 'onegrid-run-'));
  process.env.ONEGRID_TEST_RUN_DIR = run;
  return () => rmSync(run, { recursive: true, force: true });
}
