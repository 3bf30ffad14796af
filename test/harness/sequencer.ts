/**
 * Vitest file order for `npm test`: longest first. Two workers take files in this order as they free up, so
 * the long browser and platform files start at once and the short ones fill in around them, instead of one
 * long file left running alone at the end (vitest's default puts failed files first, and on a machine
 * without its results cache — a fresh clone, CI — orders by file size).
 *
 * A file's duration is this machine's last one from vitest's results cache when known, else the figure in
 * test/durations.json (seconds, recorded on a 2-core machine; refresh it with `node scripts/test-durations.js`
 * after a full run), else a guess from its size (a new file runs early rather than last).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const RECORDED = path.resolve(import.meta.dirname, '../durations.json');

function recorded(): Record<string, number> {
  try {
    return (JSON.parse(readFileSync(RECORDED, 'utf8')) as { seconds: Record<string, number> }).seconds;
  } catch {
    return {};
  }
}

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const known = recorded();
    const seconds = (f: TestSpecification): number => {
      const rel = path.relative(root, f.moduleId).split(path.sep).join('/');
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${rel}`);
      if (cached && cached.duration > 0) return cached.duration / 1000;
      if (known[rel] !== undefined) return known[rel];
      try {
        return 30 + statSync(f.moduleId).size / 1000; // unknown: early, larger first
      } catch {
        return 30;
      }
    };
    const d = new Map(files.map((f) => [f, seconds(f)]));
    return [...files].sort((a, b) => d.get(b)! - d.get(a)!);
  }
}
