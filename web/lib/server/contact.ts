/**
 * The contact a reporter left with a case (Open311 first_name/last_name/email/phone, or the caller a
 * hotline operator typed at intake), for the handlers of that case — issue 13 "Citizen callback".
 *
 * - Scoped: only a user who may see the case (the case service's scope; 404 outside it) and whose role
 *   handles cases (admin, dispatcher, commander, department, gridworker; 403 for analyst and viewer).
 * - Masked by default (ingest/open311/privacy.ts); revealing is an explicit POST that is written to the
 *   security audit log (kind `contact_revealed`, target the case id) before the contact is answered.
 */
import type { RequestEvent } from '@sveltejs/kit';
import type { SessionUser } from '../../../ingest/auth/sessions.ts';
import { reporterOf } from '../../../ingest/store/cases.ts';
import { maskContact, type ReporterContact } from '../../../ingest/open311/privacy.ts';
import { fail, requireUser } from './api.ts';
import { actorFor, caseService } from './cases.ts';
import { getServices } from './platform.ts';

export const CONTACT_ROLES: readonly SessionUser['role'][] = [
  'admin',
  'dispatcher',
  'commander',
  'department',
  'gridworker',
];

const FIELDS = ['name', 'firstName', 'lastName', 'phone', 'email', 'deviceId', 'accountId'] as const;

/** The case (by id or code) and its reporter contact, for a user allowed to see them. */
export async function contactFor(
  event: RequestEvent,
): Promise<{ user: SessionUser; caseId: string; code: string; contact: ReporterContact | null }> {
  const user = requireUser(event);
  const c = await caseService().getByIdOrCode(event.params.id ?? '', actorFor(user));
  if (!CONTACT_ROLES.includes(user.role))
    fail('forbidden', `reporter contact is for the case's handlers (${CONTACT_ROLES.join(', ')})`);
  const raw = await reporterOf(getServices().db, c.id);
  let contact: ReporterContact | null = null;
  if (raw && typeof raw === 'object') {
    const out: ReporterContact = {};
    for (const k of FIELDS) {
      const v = (raw as Record<string, unknown>)[k];
      if (typeof v === 'string' && v.trim()) out[k] = v.trim();
    }
    contact = Object.keys(out).length ? out : null;
  }
  return { user, caseId: c.id, code: c.code, contact };
}

export { maskContact };
