#!/usr/bin/env node
// The `onegrid` command. Server code is TypeScript run through tsx (no separate compile step).
import { register } from 'tsx/esm/api';

register();
// `onegrid grids export | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../ingest/cli.ts');
process.exitCode = await main(process.argv.slice(2));
