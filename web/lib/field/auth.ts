/**
 * The device session's token (POST /api/session with `device: true`: 30 days, no idle timeout), kept in
 * IndexedDB and sent as `Authorization: Bearer` on every call, so the phone stays signed in after the
 * 12-hour cookie is gone and across restarts. An admin revokes it like any session.
 */
import { cacheGet, cacheSet } from './outbox.ts';

let token: string | null = null;

export async function loadToken(): Promise<void> {
  token = (await cacheGet<string>('token')) ?? null;
}

export async function setToken(t: string | null): Promise<void> {
  token = t;
  await cacheSet('token', t);
}

/** fetch with the device session's token (and the cookie, when there is one). */
export function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(url, { credentials: 'same-origin', ...init, headers });
}
