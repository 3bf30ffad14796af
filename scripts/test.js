#!/usr/bin/env node
// `npm test`: every tier. System programs first (installed with apt-get when root on Debian/Ubuntu,
// else a failure naming the packages), then the web app build the browser tests use, then vitest.
import { spawnSync } from 'node:child_process';
import { register } from 'tsx/esm/api';

register();
const { ensureSystemPackages } = await import('./system-requirements.js');
const { buildIfNeeded } = await import('../ingest/cli.ts');

const t0 = Date.now();
ensureSystemPackages((m) => console.log(`[test] ${m}`));
buildIfNeeded((m) => console.log(`[test] ${m}`));
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ONEGRID_TEST: '1' },
});
console.log(`[test] wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(r.status ?? 1);
