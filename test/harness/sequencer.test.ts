import { describe, expect, it } from 'vitest';
import { browsersSpread } from './sequencer.ts';

describe('browsersSpread (the order of test files for three workers)', () => {
  const seconds = new Map<string, number>([
    ['b1', 100],
    ['b2', 90],
    ['b3', 80],
    ['b4', 60],
    ['o1', 40],
    ['o2', 30],
    ['o3', 20],
    ['o4', 10],
  ]);
  const longest = [...seconds.keys()];
  const browser = (f: string) => f.startsWith('b');

  /** Replays the order the way vitest hands it out: the next file to the first worker free. */
  function maxBrowsersAtOnce(order: string[], workers: number): number {
    const running: { f: string; end: number }[] = [];
    let now = 0;
    let most = 0;
    for (const f of order) {
      if (running.length === workers) {
        running.sort((a, b) => a.end - b.end);
        now = running.shift()!.end;
      }
      running.push({ f, end: now + seconds.get(f)! });
      most = Math.max(most, running.filter((r) => browser(r.f)).length);
    }
    return most;
  }

  it('keeps every file, and at most two browser files at once while other files are left', () => {
    const order = browsersSpread(longest, seconds, 3, browser);
    expect([...order].sort()).toEqual([...longest].sort());
    expect(order.slice(0, 3)).toEqual(['b1', 'b2', 'o1']);
    expect(maxBrowsersAtOnce(order, 3)).toBe(2);
    // Longest first alone would start three browser files together.
    expect(maxBrowsersAtOnce(longest, 3)).toBe(3);
  });

  it('runs browser files together when nothing else is left', () => {
    const order = browsersSpread(['b1', 'b2', 'b3'], seconds, 3, browser);
    expect(order).toEqual(['b1', 'b2', 'b3']);
  });
});
