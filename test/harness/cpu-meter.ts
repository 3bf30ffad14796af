/**
 * Vitest setup file, opt-in: with ONEGRID_TEST_CPU=FILE set, each test file appends one JSON line to FILE —
 * `{ file, wall, self, children }`, seconds: its wall time, the CPU of its worker process, and the CPU of the
 * processes it started and waited for (platforms, CLIs, Chromium, ffmpeg; Linux /proc/self/stat, clock ticks
 * at 100 Hz). Counted from the file's first hook to its last, so its own afterAll cleanup is included. Shows
 * where a run's CPU goes, which vitest's durations (wall time, stretched by whatever else runs) do not.
 * Without the variable it does nothing.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';

const out = process.env.ONEGRID_TEST_CPU;

function times(): { self: number; children: number } {
  const st = readFileSync('/proc/self/stat', 'utf8');
  // Fields after "(comm) ": state is [0]; utime, stime, cutime, cstime are [11]..[14] (proc(5)).
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}

if (out) {
  let t0 = times();
  let w0 = Date.now();
  beforeAll(() => {
    t0 = times();
    w0 = Date.now();
  });
  afterAll(() => {
    const t = times();
    const file = path.relative(process.cwd(), expect.getState().testPath ?? '');
    const row = { file, wall: (Date.now() - w0) / 1000, self: t.self - t0.self, children: t.children - t0.children };
    appendFileSync(out, JSON.stringify(row) + '\n');
  });
}
