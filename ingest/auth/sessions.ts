/** Login and sessions: scrypt-verified passwords, random tokens stored as SHA-256, usable as cookie or bearer. */
import type { Db } from '../store/db.ts';
import { deleteSession, getPasswordHash, insertSession, userBySession, type UserRow } from '../store/users.ts';
import { newSecret, sha256Hex, verifySecret } from './secrets.ts';

export const SESSION_TTL_MS = 12 * 3600_000; // a command-centre shift

export type SessionUser = UserRow;

export class Sessions {
  // Token → user, for a minute: every API call and WebSocket authenticates, the database need not be hit each time.
  private cache = new Map<string, { user: SessionUser; until: number }>();
  constructor(private readonly db: Db) {}

  async login(username: string, password: string): Promise<{ token: string; user: SessionUser } | null> {
    const hash = await getPasswordHash(this.db, username);
    // Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
    const ok = await verifySecret(password, hash ?? DUMMY_HASH);
    if (!ok || !hash) return null;
    const token = newSecret(32);
    await insertSession(this.db, sha256Hex(token), username, new Date(Date.now() + SESSION_TTL_MS));
    const user = await this.user(token);
    return user ? { token, user } : null;
  }

  async user(token: string | null | undefined): Promise<SessionUser | null> {
    if (!token) return null;
    const key = sha256Hex(token);
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.user;
    const user = await userBySession(this.db, key, new Date(now));
    if (user) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, { user, until: now + 60_000 });
    } else this.cache.delete(key);
    return user;
  }

  async logout(token: string): Promise<void> {
    const key = sha256Hex(token);
    this.cache.delete(key);
    await deleteSession(this.db, key);
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** Session token from a request: the `og_session` cookie or an `Authorization: Bearer` header. */
export function tokenFromHeaders(headers: { cookie?: string; authorization?: string }): string | null {
  const auth = headers.authorization;
  if (auth && /^bearer /i.test(auth)) return auth.slice(7).trim() || null;
  const cookie = headers.cookie;
  if (!cookie) return null;
  for (const part of cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return null;
}

export const SESSION_COOKIE = 'og_session';
