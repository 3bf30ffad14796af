#!/usr/bin/env node
// Writes test/durations.json (seconds per test file, the order `npm test` starts them in: longest first, see
// test/harness/sequencer.ts) from vitest's results cache of the last runs on this machine. Run it after a
// full `npm test` when files were added or got much faster or slower.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const cacheRoot = path.join(root, 'node_modules/.vite/vitest');
const seconds = {};
for (const d of existsSync(cacheRoot) ? readdirSync(cacheRoot) : []) {
  const f = path.join(cacheRoot, d, 'results.json');
  if (!existsSync(f)) continue;
  for (const [key, r] of JSON.parse(readFileSync(f, 'utf8')).results) {
    const file = key.slice(key.indexOf(':') + 1);
    if (r.duration > 0 && existsSync(path.join(root, file))) seconds[file] = Math.round(r.duration / 100) / 10;
  }
}
const sorted = Object.fromEntries(Object.entries(seconds).sort((a, b) => b[1] - a[1]));
writeFileSync(
  path.join(root, 'test/durations.json'),
  JSON.stringify(
    { note: 'seconds per file on a 2-core machine; scripts/test-durations.js', seconds: sorted },
    null,
    2,
  ) + '\n',
);
console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
