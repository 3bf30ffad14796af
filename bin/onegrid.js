#!/usr/bin/env node
// The `onegrid` command. Server code is TypeScript run through tsx (no separate compile step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../ingest/cli.ts');
process.exitCode = await main(process.argv.slice(2));
