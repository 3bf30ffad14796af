/** Case metrics for /metrics: cases by state (CONTRACT.md), counted from the database at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../store/db.ts';
import { ALL_SCOPE, countByState } from '../store/cases.ts';
import { CASE_STATES } from '../../core/cases/types.ts';

export function registerCaseMetrics(registry: Registry, db: Queryable): void {
  new Gauge({
    name: 'onegrid_cases',
    help: 'cases by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const by = await countByState(db, ALL_SCOPE).catch(() => null);
      if (!by) return;
      for (const s of CASE_STATES) this.set({ state: s }, by[s] ?? 0);
    },
  });
  new Gauge({
    name: 'onegrid_cases_overdue',
    help: 'open cases marked overdue',
    registers: [registry],
    async collect() {
      const r = await db
        .query<{ n: string | number }>(
          `SELECT count(*) AS n FROM cases WHERE overdue AND state NOT IN ('closed', 'rejected', 'merged')`,
        )
        .catch(() => null);
      if (r) this.set(Number(r.rows[0]?.n ?? 0));
    },
  });
}
