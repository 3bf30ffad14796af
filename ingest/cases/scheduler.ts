/**
 * Durable timers (处置时限): deadlines live in the database (`cases.next_timer_at`, from core's
 * `nextTimerAt`); every few seconds the scheduler takes the due cases with `FOR UPDATE SKIP LOCKED` — so
 * several processes never take the same case — and applies core's timer decisions as the system actor:
 * a passed deadline → supervise (督办, the machine marks the case overdue); an unanswered whistle → escalate
 * to the next command level (or supervise at district level). Each is an ordinary machine action with its
 * trail entry and live message. Nothing is kept in memory, so a restart loses nothing.
 */
import { nextTimerAt, timerDue } from '../../core/cases/sla.ts';
import { isDomainError } from '../../core/errors.ts';
import { lockDueTimers, setNextTimer } from '../store/cases.ts';
import type { Logger } from '../log.ts';
import { SYSTEM_ACTOR } from './port.ts';
import type { CaseService } from './service.ts';

export interface SchedulerOptions {
  /** How often to look for due timers, ms. */
  intervalMs: number;
  /** Most cases taken in one transaction. */
  batch: number;
  /** When a due timer fails, try it again after this long, ms. */
  retryMs: number;
}

export const SCHEDULER_DEFAULTS: SchedulerOptions = {
  intervalMs: 2000, // ms
  batch: 100, // cases
  retryMs: 60_000, // ms
};

export class CaseScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private readonly o: SchedulerOptions;

  constructor(
    private readonly svc: CaseService,
    private readonly log?: Logger,
    opts: Partial<SchedulerOptions> = {},
  ) {
    this.o = { ...SCHEDULER_DEFAULTS, ...opts };
  }

  /** Apply every timer due now; resolves with the number of actions applied. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const { taken, applied } = await this.batch();
      total += applied;
      if (taken < this.o.batch) return total;
    }
  }

  private batch(): Promise<{ taken: number; applied: number }> {
    return this.svc.transact(async (tx) => {
      const now = this.svc.now();
      const due = await lockDueTimers(tx.q, now, this.o.batch);
      let applied = 0;
      for (let s of due) {
        const timers = timerDue(s.case, now);
        if (timers.length === 0) {
          // Nothing due after all (the index ran ahead of the case): re-arm from the case itself.
          const next = nextTimerAt(s.case);
          await setNextTimer(tx.q, s.case.id, next !== null && next > now ? next : null);
          continue;
        }
        for (const t of timers) {
          try {
            s = await tx.apply(s, t.action, SYSTEM_ACTOR);
            applied++;
          } catch (e) {
            if (!isDomainError(e)) throw e;
            // A decision the machine refuses must not spin: log it and look again later.
            this.log?.warn({ case: s.case.code, timer: t.kind, err: e.message }, 'timer action refused');
            await setNextTimer(tx.q, s.case.id, now + this.o.retryMs);
            break;
          }
        }
      }
      return { taken: due.length, applied };
    });
  }

  /** One run at a time in this process (other processes are kept apart by SKIP LOCKED). */
  tick(): Promise<number> {
    this.running ??= this.runOnce()
      .catch((e) => {
        this.log?.error({ err: e }, 'case scheduler run failed');
        return 0;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
