import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { sha256Hex } from '../../../../ingest/auth/secrets.ts';
import type { TicketStore } from '../../../../ingest/auth/sockets.ts';

/**
 * A one-use WebSocket ticket for the signed-in session: `{ticket, expiresAt}`, valid 30 s for one upgrade of
 * `/live?ticket=…` or `/video/{id}?ticket=…`, for clients that can send neither the session cookie nor an
 * `Authorization` header. Session tokens are never accepted in URLs. The socket it opens belongs to the
 * session and closes when the session ends.
 */
export const POST = api((event) => {
  const u = requireUser(event);
  const tickets = getServices().ext.tickets as TicketStore;
  const token = event.locals.token!;
  return json(tickets.issue({ tokenHash: sha256Hex(token), username: u.username }), {
    status: 201,
    headers: { 'cache-control': 'no-store' },
  });
});
