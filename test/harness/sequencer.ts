/**
 * Vitest file order for `npm test`: longest first. The workers take files in this order as they free up, so
 * the long browser and platform files start at once and the short ones fill in around them, instead of one
 * long file left running alone at the end (vitest's default puts failed files first, and on a machine
 * without its results cache — a fresh clone, CI — orders by file size). With more workers than BROWSER_SLOTS,
 * files that drive Chromium are spread so that no more than that many run at once (browsersSpread).
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
    const longest = [...files].sort((a, b) => d.get(b)! - d.get(a)!);
    const workers = Number(this.ctx.config.maxWorkers) || 1;
    if (workers <= BROWSER_SLOTS) return longest;
    return browsersSpread(longest, d, workers, (f) => usesBrowser(f.moduleId));
  }
}

/** At most this many files drive Chromium at once: more starve each other's software-rendered frames. */
const BROWSER_SLOTS = 2;

function usesBrowser(file: string): boolean {
  try {
    return /\blaunchChromium\(/.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The order in which `workers` free workers, taking files as they finish (longest first), would start them if
 * a file that drives Chromium started only while fewer than BROWSER_SLOTS others do (unless nothing else is
 * left): a simulation over the recorded durations, so the order vitest hands out keeps about that many.
 */
export function browsersSpread<T>(
  longest: T[],
  seconds: Map<T, number>,
  workers: number,
  browser: (f: T) => boolean,
): T[] {
  const left = [...longest];
  const running: { f: T; end: number }[] = [];
  const order: T[] = [];
  let now = 0;
  while (left.length) {
    if (running.length === workers) {
      running.sort((a, b) => a.end - b.end);
      now = running.shift()!.end;
    }
    const browsers = running.filter((r) => browser(r.f)).length;
    let i = left.findIndex((f) => !browser(f) || browsers < BROWSER_SLOTS);
    if (i < 0) i = 0;
    const [f] = left.splice(i, 1);
    order.push(f);
    running.push({ f, end: now + (seconds.get(f) ?? 30) });
  }
  return order;
}
