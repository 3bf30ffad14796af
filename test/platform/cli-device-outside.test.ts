/**
 * `onegrid device add` refuses a location outside every grid (a typo, or lat and lng swapped) unless
 * `--allow-outside` is given (issue 13, "The CLI"); validation errors still name the bad field first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { seededDataDir } from '../harness/platform.ts';
import { runCli, spawnCli } from '../harness/cli.ts';

// A data directory with the sample district already loaded (the run's seeded template): the grid check
// needs the grids, not a first-use seed in the first CLI call.
let dataDir = '';
beforeAll(async () => {
  dataDir = await seededDataDir('onegrid-cli-outside-');
}, 300_000);
const env = () => ({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'cli-admin-pw-outside', LOG_LEVEL: 'silent' });
/** The real command (bin/onegrid.js in a new process) for the first case; the same main() in process after. */
const spawned = (args: string[]) => spawnCli(['device', 'add', ...args], env());
const cli = (args: string[]) => runCli(['device', 'add', ...args], env());
afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('onegrid device add outside every grid', { timeout: 120_000 }, () => {
  it('is refused, naming the location and the flag; nothing is registered', async () => {
    // A typo: 17.15 for 117.15 puts the device in Africa, far from the sample district.
    const r = spawned(['--id', 'smk-swapped', '--kind', 'smoke', '--lng', '17.15', '--lat', '39.17']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid_grid/);
    expect(r.stderr).toMatch(/outside every grid/);
    expect(r.stderr).toMatch(/--allow-outside/);
    // The id is still free: the refusal stored nothing.
    const again = await cli(['--id', 'smk-swapped', '--kind', 'smoke', '--lng', '117.15', '--lat', '39.17', '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).grid).toMatch(/^120106\d{9}$/);
  });

  it('is registered with --allow-outside, in no grid', async () => {
    const r = await cli([
      '--id',
      'smk-far',
      '--kind',
      'smoke',
      '--lng',
      '100',
      '--lat',
      '30',
      '--allow-outside',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'smk-far', grid: null, location: [100, 30] });
  });

  it('names a bad field before the grid check', async () => {
    const r = await cli(['--id', 'x1', '--kind', 'toaster', '--lng', '1', '--lat', '1']);
    expect(r.stderr).toMatch(/kind must be one of/);
  });
});
