import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { accounts } from '../../users/accounts.ts';

/**
 * Start TOTP enrolment (RFC 6238; any authenticator app): → 200 `{"secret", "uri", "qr"}` — the base32
 * secret, its `otpauth://totp/OneGrid:{user}` URI and that URI as a QR code (`data:image/png;base64,…`).
 * Not active until confirmed (POST /api/session/totp/confirm). 409 conflict when already on.
 */
export const POST = api(async (event) => {
  const u = requireUser(event);
  return json(await accounts().enrolTotp(u.username), { headers: { 'cache-control': 'no-store' } });
});

/**
 * Turn TOTP off for oneself: `{"password", "code"}` → 204. 403 forbidden for an admin while REQUIRE_2FA=admin.
 */
export const DELETE = api(async (event) => {
  const u = requireUser(event);
  const body = (await readJson(event, 4096)) as { password?: unknown; code?: unknown };
  await accounts().disableTotp(u.username, {
    actor: u.username,
    ip: event.getClientAddress(),
    password: typeof body?.password === 'string' ? body.password : '',
    code: typeof body?.code === 'string' ? body.code : '',
    requiredForTarget: getServices().config.require2fa === 'admin' && u.role === 'admin',
  });
  return new Response(null, { status: 204 });
});
