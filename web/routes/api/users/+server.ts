import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { listUsersAdmin } from '../../../../ingest/store/users.ts';
import { accounts } from './accounts.ts';

/** Accounts, admin only: `{"items": UserAdmin[]}` (no hashes or secrets). */
export const GET = api(async (event) => {
  requireRole(event);
  return json({ items: await listUsersAdmin(getServices().db) }, { headers: { 'cache-control': 'no-store' } });
});

/**
 * Create an account, admin only. Body: `{"username", "role", "name"?, "scope"?: {"grid"?, "department"?},
 * "level"?, "password"?}` → 201 `{"user", "password"?}` (`password` only when generated: shown once). The
 * user must change the password at first sign-in. Errors: 400 validation_failed (details.field) for a
 * bad username, role, a scope naming no published grid or department, a level not matching the grid; 400
 * weak_password; 409 conflict when the username exists.
 */
export const POST = api(async (event) => {
  const admin = requireRole(event);
  const b = (await readJson(event, 16 * 1024)) as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) fail('validation_failed', 'body must be a JSON object');
  const scope = (b.scope ?? {}) as Record<string, unknown>;
  if (typeof scope !== 'object' || Array.isArray(scope))
    fail('validation_failed', 'scope must be an object', { field: 'scope' });
  const str = (v: unknown, field: string): string | null => {
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') fail('validation_failed', `${field} must be a string`, { field });
    return v;
  };
  const r = await accounts().create(
    {
      username: str(b.username, 'username') ?? '',
      role: str(b.role, 'role') as never,
      name: str(b.name, 'name') ?? undefined,
      scopeGrid: str(scope.grid, 'scope.grid'),
      scopeDepartment: str(scope.department, 'scope.department'),
      level: str(b.level, 'level') as never,
      password: b.password === undefined || b.password === null ? undefined : (str(b.password, 'password') ?? ''),
    },
    { actor: admin.username, ip: event.getClientAddress() },
  );
  return json(
    { user: r.user, ...(r.password ? { password: r.password } : {}) },
    { status: 201, headers: { 'cache-control': 'no-store' } },
  );
});
