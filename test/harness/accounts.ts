/**
 * Accounts for tests, made as an operator would on a running platform: the admin creates the user through
 * `POST /api/users` (scope and level as in geo-data/sample/users.json when it is a sample user), the user
 * signs in with the given password and replaces it (a password set by someone else must be changed first).
 * Sample users are not created outside demo mode, and never share the admin's password (issue 11).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlatformHandle } from './platform.ts';

interface Spec {
  role: string;
  name?: string;
  scope?: { grid?: string | null; department?: string | null };
  level?: string | null;
}

const SAMPLE = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../geo-data/sample/users.json'), 'utf8'),
) as (Spec & { username: string })[];

/** A password that passes the policy, distinct per user. */
export function testPassword(username: string): string {
  return `Tq7-${username.length}-wide-Harbor-${username.replace(/[^a-z]/gi, '').slice(-3)}x9!`.replace(username, '');
}

async function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

/**
 * Create `username` (the sample user's spec unless `spec` is given) with the admin's token, then sign it in
 * and change its password; returns the user's session token.
 */
export async function userToken(p: PlatformHandle, adminToken: string, username: string, spec?: Spec): Promise<string> {
  const s = spec ?? SAMPLE.find((u) => u.username === username);
  if (!s) throw new Error(`no sample user ${username}`);
  const initial = `Init-${testPassword(username)}`;
  const created = await post(
    `${p.url}/api/users`,
    { username, name: s.name, role: s.role, scope: s.scope ?? {}, level: s.level ?? null, password: initial },
    adminToken,
  );
  if (created.status !== 201 && created.status !== 409)
    throw new Error(`create ${username}: ${created.status} ${await created.text()}`);
  if (created.status === 409) return p.login(username, testPassword(username));
  const token = await p.login(username, initial);
  const changed = await post(
    `${p.url}/api/session/password`,
    { currentPassword: initial, newPassword: testPassword(username) },
    token,
  );
  if (!changed.ok) throw new Error(`password change ${username}: ${changed.status} ${await changed.text()}`);
  return token;
}

/**
 * The password a demo-mode platform printed once for a sample user (`sample user NAME password: PW` on its
 * start-up output); each sample user has its own.
 */
export function samplePassword(p: PlatformHandle, username: string): string {
  const m = p
    .output()
    .match(new RegExp(`sample user ${username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} password: (\\S+)`));
  if (!m) throw new Error(`no printed password for sample user ${username} (demo mode, first start only)`);
  return m[1];
}
