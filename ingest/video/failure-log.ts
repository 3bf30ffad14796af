// How often a failing camera is written to the log: its first failure at once, then only at the 2nd, 4th,
// 8th … consecutive failure or when a minute has passed since its last line, with the number of failures
// in between. The stream's restart backoff (camera-stream.ts) is per stream and starts over when viewers
// come back; this is per camera and lasts until the camera plays again.

const QUIET_MAX_MS = 60_000;
const MAX_CAMERAS = 10_000;

interface Entry {
  failures: number;
  lastLoggedAt: number;
  unlogged: number;
}

export class FailureLog {
  private readonly cameras = new Map<string, Entry>();

  /**
   * A failure of `camera` at `now` (ms). Returns the number of failures since the last logged one
   * (0 for the first) when this one should be logged, null when it should not.
   */
  record(camera: string, _reason: string, now: number): number | null {
    let e = this.cameras.get(camera);
    if (!e) {
      if (this.cameras.size >= MAX_CAMERAS) this.cameras.clear();
      e = { failures: 0, lastLoggedAt: -Infinity, unlogged: 0 };
      this.cameras.set(camera, e);
    }
    e.failures++;
    const powerOfTwo = (e.failures & (e.failures - 1)) === 0;
    if (powerOfTwo || now - e.lastLoggedAt >= QUIET_MAX_MS) {
      const skipped = e.unlogged;
      e.unlogged = 0;
      e.lastLoggedAt = now;
      return skipped;
    }
    e.unlogged++;
    return null;
  }

  /** The camera plays: its next failure is logged at once. */
  ok(camera: string): void {
    this.cameras.delete(camera);
  }
}

/** One per process: every stream of a camera shares its count. */
export const failureLog = new FailureLog();
