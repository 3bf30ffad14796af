import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getUserAdmin } from '../../../../../ingest/store/users.ts';
import { accounts } from '../accounts.ts';

/** One account, admin only: `{"user"}`; 404 not_found. */
export const GET = api(async (event) => {
  requireRole(event);
  const u = await getUserAdmin(getServices().db, event.params.username ?? '');
  if (!u) fail('not_found', `no user ${event.params.username}`);
  return json({ user: u }, { headers: { 'cache-control': 'no-store' } });
});

const KEYS = new Set(['name', 'role', 'scope', 'level', 'disabled', 'unlock', 'resetPassword', 'disableTotp']);

/**
 * Change an account, admin only. Body, every member optional: `{"name", "role", "scope": {"grid",
 * "department"}, "level", "disabled": bool, "unlock": true, "resetPassword": true, "disableTotp": true}` →
 * 200 `{"user", "password"?}` (`password` when reset: shown once, must be changed at next sign-in). A role,
 * scope, disable or reset ends the user's sessions (and its sockets). Errors as POST /api/users; 404
 * not_found; 409 conflict when an admin would disable or demote itself.
 */
export const PATCH = api(async (event) => {
  const admin = requireRole(event);
  const b = (await readJson(event, 16 * 1024)) as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) fail('validation_failed', 'body must be a JSON object');
  for (const k of Object.keys(b)) if (!KEYS.has(k)) fail('validation_failed', `unknown member "${k}"`, { field: k });
  const bool = (v: unknown, field: string) => {
    if (v !== undefined && typeof v !== 'boolean')
      fail('validation_failed', `${field} must be true or false`, { field });
    return v as boolean | undefined;
  };
  const nullableStr = (v: unknown, field: string) => {
    if (v === undefined) return undefined;
    if (v === null || v === '') return null;
    if (typeof v !== 'string') fail('validation_failed', `${field} must be a string or null`, { field });
    return v;
  };
  let scopeGrid: string | null | undefined;
  let scopeDepartment: string | null | undefined;
  if (b.scope !== undefined) {
    if (!b.scope || typeof b.scope !== 'object' || Array.isArray(b.scope))
      fail('validation_failed', 'scope must be {"grid"?, "department"?}', { field: 'scope' });
    const s = b.scope as Record<string, unknown>;
    // A scope given replaces the old one whole: a member left out is cleared.
    scopeGrid = nullableStr(s.grid, 'scope.grid') ?? null;
    scopeDepartment = nullableStr(s.department, 'scope.department') ?? null;
  }
  const name = nullableStr(b.name, 'name');
  const role = nullableStr(b.role, 'role');
  const username = event.params.username ?? '';
  const r = await accounts().update(
    username,
    {
      name: name ?? undefined,
      role: (role ?? undefined) as never,
      scopeGrid,
      scopeDepartment,
      level: nullableStr(b.level, 'level') as never,
      disabled: bool(b.disabled, 'disabled'),
      unlock: bool(b.unlock, 'unlock'),
      resetPassword: bool(b.resetPassword, 'resetPassword'),
    },
    { actor: admin.username, ip: event.getClientAddress() },
  );
  if (bool(b.disableTotp, 'disableTotp'))
    await accounts().disableTotp(username, {
      actor: admin.username,
      ip: event.getClientAddress(),
      requiredForTarget: false,
    });
  const user = b.disableTotp ? await getUserAdmin(getServices().db, username) : r.user;
  return json({ user, ...(r.password ? { password: r.password } : {}) }, { headers: { 'cache-control': 'no-store' } });
});
