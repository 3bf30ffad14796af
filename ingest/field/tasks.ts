/**
 * A grid worker's task list (任务): cases dispatched to me (派遣给我的, to claim and handle), checks (核查) of
 * cases handled in my grid by someone else, and my own recent reports. Read through the case service, so the
 * worker's scope applies (core `inScope`, the same rule as ingest/auth/scope.ts).
 */
import type { Actor, Case } from '../../core/cases/types.ts';
import type { CaseService } from '../cases/service.ts';

export type TaskCase = Case & { actions: string[] };

export interface Tasks {
  dispatched: TaskCase[];
  checks: TaskCase[];
  reported: TaskCase[];
}

export async function tasksOf(cases: CaseService, actor: Actor): Promise<Tasks> {
  const withActions = (c: Case): TaskCase => ({ ...c, actions: cases.allowedActions(c, actor) });
  const open = await cases.list({ state: ['dispatched', 'in_progress'], limit: 500 }, actor);
  const handled = await cases.list({ state: ['handled'], limit: 500 }, actor);
  const mine = await cases.db.query<{ case_id: string }>(
    `SELECT case_id FROM field_actions WHERE username = $1 AND kind = 'report' AND case_id IS NOT NULL
      ORDER BY received_at DESC LIMIT 20`,
    [actor.id],
  );
  const ids = mine.rows.map((r) => r.case_id);
  const reported = ids.length ? (await cases.list({ ids, limit: 20 }, actor)).cases : [];
  return {
    dispatched: open.cases.filter((c) => c.assignee?.kind === 'user' && c.assignee.id === actor.id).map(withActions),
    checks: handled.cases.map(withActions).filter((c) => c.actions.includes('verify')),
    reported: reported.map(withActions),
  };
}
