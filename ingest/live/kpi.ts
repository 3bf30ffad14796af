/**
 * `kpi` on `/live` (CONTRACT.md): the indicators of `/api/stats` pushed to the walls, each user's for its own
 * scope, soon after cases change — so the panels' close rate, on-time rate, satisfaction and overdue move
 * with the cases instead of on the wall's minute poll.
 *
 * Per instance: each web instance computes for the scopes of its own connected users (one computation per
 * distinct scope, however many walls share it) and sends to them directly, outside the numbered stream.
 * Case news from any instance (the bus) marks the figures stale; they are recomputed at most every
 * `minIntervalMs`, and every `refreshMs` regardless (device online ratio, the window moving on).
 */
import type { CaseService } from '../cases/service.ts';
import { actorOf } from '../cases/port.ts';
import { caseStatsFor } from '../cases/stats.ts';
import type { Bus } from './bus.ts';
import type { LiveHub } from './hub.ts';
import type { SessionUser } from '../auth/sessions.ts';
import type { Logger } from '../log.ts';

const DAY = 24 * 3600_000;

export interface KpiFeedOptions {
  /** Least time between two rounds (default 5 s). */
  minIntervalMs?: number;
  /** A round at least this often while anyone is connected (default 60 s). */
  refreshMs?: number;
  /** The statistics window ending now (default 30 days, as `/api/stats`). */
  windowMs?: number;
  now?: () => number;
}

/** Users who see the same indicators: same role class and the same grid and department scope. */
export function kpiScopeKey(u: SessionUser): string {
  const a = actorOf(u);
  return `${a.role === 'admin' ? 'admin' : a.role === 'department' ? 'department' : 'scoped'}|${a.scope.grid ?? ''}|${a.scope.department ?? ''}`;
}

export class KpiFeed {
  private stale = true;
  private running = false;
  private lastRound = 0;
  private timer: ReturnType<typeof setInterval>;
  private unsubscribe: () => void;
  private readonly opts: Required<Omit<KpiFeedOptions, 'now'>> & { now: () => number };
  /** Rounds done and messages sent (tests, metrics). */
  rounds = 0;
  sent = 0;

  constructor(
    private readonly deps: { cases: CaseService; hub: LiveHub; bus: Bus; log: Logger },
    opts: KpiFeedOptions = {},
  ) {
    this.opts = { minIntervalMs: 5000, refreshMs: 60_000, windowMs: 30 * DAY, now: Date.now, ...opts };
    this.unsubscribe = deps.bus.subscribe('live', (m) => {
      if ((m as { msg?: { type?: string } }).msg?.type === 'case') this.stale = true;
    });
    const tick = Math.max(50, Math.min(1000, this.opts.minIntervalMs / 2));
    this.timer = setInterval(() => void this.maybeRound(), tick);
    this.timer.unref?.();
  }

  private async maybeRound(): Promise<void> {
    const now = this.opts.now();
    const due = this.stale ? this.opts.minIntervalMs : this.opts.refreshMs;
    if (this.running || now - this.lastRound < due || this.deps.hub.clientCount === 0) return;
    await this.round();
  }

  /** Compute and send one round now (also used by tests). */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stale = false;
    const now = this.opts.now();
    this.lastRound = now;
    try {
      const byKey = new Map<string, SessionUser>();
      for (const u of this.deps.hub.users()) {
        const key = kpiScopeKey(u);
        if (!byKey.has(key)) byKey.set(key, u);
      }
      for (const [key, u] of byKey) {
        const stats = await caseStatsFor(
          this.deps.cases,
          actorOf(u),
          { from: now + 1 - this.opts.windowMs, to: now + 1 },
          null,
        );
        this.sent += this.deps.hub.sendLocal({ type: 'kpi', ...stats }, (v) => kpiScopeKey(v) === key);
      }
      this.rounds++;
    } catch (e) {
      this.stale = true; // try again next time
      this.deps.log.warn({ err: (e as Error).message }, 'kpi round failed');
    } finally {
      this.running = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }
}
