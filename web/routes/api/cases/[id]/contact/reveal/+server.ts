import { json } from '@sveltejs/kit';
import { api, fail } from '$lib/server/api.ts';
import { contactFor } from '$lib/server/contact.ts';
import { getServices } from '$lib/server/platform.ts';
import { recordAudit } from '../../../../../../../ingest/auth/audit.ts';

/**
 * Reveal the reporter's contact (to call the citizen back): `{"contact": {…}, "masked": false}`. Each reveal
 * is written to the security audit log (kind `contact_revealed`, actor, case id, address) before the
 * contact is sent; if the log cannot be written, nothing is revealed. Same access as GET …/contact; 404
 * when the case has no contact.
 */
export const POST = api(async (event) => {
  const { user, caseId, code, contact } = await contactFor(event);
  if (!contact) fail('not_found', `case ${code} has no reporter contact`);
  let ip: string | null = null;
  try {
    ip = event.getClientAddress();
  } catch {
    ip = null;
  }
  await recordAudit(getServices().db, {
    kind: 'contact_revealed',
    actor: user.username,
    target: caseId,
    ip,
    detail: { code, fields: Object.keys(contact) },
  });
  return json({ contact, masked: false }, { headers: { 'cache-control': 'no-store' } });
});
