/** The case service as the API routes use it (registered by ingest/platform.ts on `services.ext.cases`). */
import type { Actor, Case } from '../../../core/cases/types.ts';
import { caseGridCode } from '../../../core/cases/machine.ts';
import { actorOf } from '../../../ingest/cases/port.ts';
import type { CaseService } from '../../../ingest/cases/service.ts';
import type { SessionUser } from '../../../ingest/auth/sessions.ts';
import { getServices } from './platform.ts';

export function caseService(): CaseService {
  const s = getServices().ext.cases as CaseService | undefined;
  if (!s) throw new Error('the case service is not running');
  // Its DomainErrors come from the platform's copy of core; `isDomainError` recognises them by shape.
  return s;
}

export function actorFor(u: SessionUser): Actor {
  return actorOf(u);
}

/**
 * A case as the API answers it: with the actions this user may take now, and the department the routing
 * table names for its category and grid (for the dispatcher's suggestion).
 */
export function caseView(c: Case, actor: Actor): Case & { actions: string[]; suggestedDepartment: string } {
  const svc = caseService();
  return {
    ...c,
    actions: svc.allowedActions(c, actor),
    suggestedDepartment: svc.departments.route(c.category, caseGridCode(c.grid)),
  };
}
