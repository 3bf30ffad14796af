/**
 * A fixture made once per test run and shared by every worker (an initialised cluster, a seeded data
 * directory): the first caller makes it under a lock in the run's folder (ONEGRID_TEST_RUN_DIR, made by
 * test/harness/global-setup.ts), the others wait until it is ready. Markers beside it: `NAME.lock` (an atomic
 * mkdir: who makes it), `NAME.ready`, `NAME.failed` (with the error).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The run's folder once the fixture `name` is ready there (`make` fills it, given that folder); null outside
 * a test run, when making it failed, or when it is not ready within `waitMs` — callers then fall back to
 * making their own.
 */
export async function oncePerRun(
  name: string,
  make: (run: string) => Promise<void> | void,
  opts: { waitMs?: number; pollMs?: number } = {},
): Promise<string | null> {
  const run = process.env.ONEGRID_TEST_RUN_DIR;
  if (!run || !existsSync(run)) return null;
  const ready = path.join(run, `${name}.ready`);
  const failed = path.join(run, `${name}.failed`);
  let mine = false;
  try {
    mkdirSync(path.join(run, `${name}.lock`));
    mine = true;
  } catch {
    /* another worker makes it */
  }
  if (mine) {
    try {
      await make(run);
      writeFileSync(ready, '');
    } catch (e) {
      writeFileSync(failed, String(e));
      return null;
    }
  }
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  while (!existsSync(ready)) {
    if (existsSync(failed) || Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  return run;
}
