/** The case service as the API routes use it (registered by ingest/platform.ts on `services.ext.cases`). */
import type { Actor, Case } from '../../../core/cases/types.ts';
import { DomainError } from '../../../core/errors.ts';
import { caseGridCode } from '../../../core/cases/machine.ts';
import { actorOf } from '../../../ingest/cases/port.ts';
import type { CaseService } from '../../../ingest/cases/service.ts';
import type { SessionUser } from '../../../ingest/auth/sessions.ts';
import { getServices } from './platform.ts';

/**
 * A DomainError thrown by the platform's own copy of core (loaded by tsx) is not an instance of this
 * bundle's DomainError class (the web build bundles its own copy of core/errors.ts), so `api()` would see an
 * unexpected error and answer 500. Rethrow it as this bundle's class, code, message and details unchanged.
 */
function adopt(e: unknown): never {
  if (
    !(e instanceof DomainError) &&
    e instanceof Error &&
    e.name === 'DomainError' &&
    typeof (e as { code?: unknown }).code === 'string'
  ) {
    const x = e as Error & { code: ConstructorParameters<typeof DomainError>[0]; details?: unknown };
    throw new DomainError(x.code, x.message, x.details);
  }
  throw e;
}

let wrapped: { of: CaseService; proxy: CaseService } | null = null;

export function caseService(): CaseService {
  const s = getServices().ext.cases as CaseService | undefined;
  if (!s) throw new Error('the case service is not running');
  if (wrapped?.of !== s) {
    const proxy = new Proxy(s, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          try {
            const r = (v as (...a: unknown[]) => unknown).apply(target, args);
            return r instanceof Promise ? r.catch(adopt) : r;
          } catch (e) {
            adopt(e);
          }
        };
      },
    });
    wrapped = { of: s, proxy };
  }
  return wrapped.proxy;
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
