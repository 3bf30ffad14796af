/**
 * Sign-in and sessions (GB/T 22239-2019 8.1.4.1: identification, login-failure handling, session timeout).
 *
 * - Passwords are scrypt-verified; tokens are random (32 bytes) and stored only as SHA-256.
 * - Login-failure handling: an account is locked for `LOCK_MS` (15 min) after `MAX_FAILURES` (5) failures
 *   within `FAILURE_WINDOW_MS` (15 min) — wrong passwords and wrong TOTP codes alike; an admin may unlock
 *   early. Per client address, failures and attempts are rate-limited (rate-limiter-flexible, in memory:
 *   per process) and answered 429 `rate_limited` with `Retry-After`; the address limit is checked before
 *   any password is hashed, so a loop of wrong passwords costs no CPU.
 * - Two-factor: with TOTP enrolled, the code is part of the sign-in (`totp_required` until given).
 * - A session ends after `idleMin` minutes without a request and `maxHours` after sign-in whatever its use;
 *   ended sessions are pruned every minute, and every end is announced (revocation.ts) so sockets close.
 * - Sessions are cached for up to `cacheS` seconds per token (config SESSION_CACHE_S, default a minute); an
 *   ended session's entry is dropped at once in this process.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { verify as verifyTotp } from 'otplib';
import { DomainError } from '../../core/errors.ts';
import type { Db, Queryable } from '../store/db.ts';
import {
  clearLoginFailures,
  deleteSession,
  deleteUserSessions,
  getLoginState,
  getUser,
  insertSession,
  pruneSessions,
  recordLoginFailure,
  touchSession,
  useTotpStep,
  userBySession,
  type UserRow,
} from '../store/users.ts';
import { newSecret, sha256Hex, verifySecret } from './secrets.ts';
import { announceRevocation, type RevocationReason } from './revocation.ts';
import { recordAudit } from './audit.ts';

/** Default absolute lifetime (a command-centre shift); the running value is config `SESSION_MAX_HOURS`. */
export const SESSION_TTL_MS = 12 * 3600_000;
/**
 * Lifetime of a device session (the grid worker's phone, `/m`: sign in once and stay signed in), which has no
 * idle timeout; an admin revokes it like any session (disable the user, reset its password).
 */
export const DEVICE_SESSION_MS = 30 * 24 * 3600_000;
/** Roles that may open a device session. */
export const DEVICE_SESSION_ROLES: readonly string[] = ['gridworker'];

export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;
export const LOCK_MS = 15 * 60_000;
/**
 * Per address: failed sign-ins (passwords or codes) allowed per 15 minutes. A command centre signs in from
 * behind one NAT address, so this is per address, not per person: generous for typos, far below a loop.
 */
export const ADDRESS_FAILURES = 30;
/** Per address: sign-in attempts allowed per minute, right or wrong (a shift change signs in together). */
export const ADDRESS_ATTEMPTS_PER_MIN = 120;

export interface SessionUser extends UserRow {
  /** REQUIRE_2FA applies to this user and no TOTP is enrolled yet: only enrolment is allowed. */
  totpEnrolmentRequired?: boolean;
}

export interface SessionOptions {
  idleMin: number;
  maxHours: number;
  require2fa: 'off' | 'admin';
  /** Seconds a looked-up session is trusted before the database is asked again (0 = always ask; default 60). */
  cacheS?: number;
}

export interface LoginContext {
  ip?: string | null;
  /** 6-digit TOTP code, needed when the account has TOTP enrolled. */
  totp?: string | null;
  /** Ask for a device session (DEVICE_SESSION_MS, no idle timeout); granted to DEVICE_SESSION_ROLES only. */
  device?: boolean;
}

function rateLimited(res: RateLimiterRes | Error | unknown, what: string): DomainError {
  const ms = res instanceof RateLimiterRes ? res.msBeforeNext : 60_000;
  return new DomainError('rate_limited', `too many ${what} from this address: try again later`, {
    retryAfterS: Math.max(1, Math.ceil(ms / 1000)),
  });
}

export class Sessions {
  // Token hash → user, for up to `cacheMs` (a minute by default): every API call and WebSocket authenticates,
  // the database need not be hit each time.
  private cache = new Map<string, { user: SessionUser; until: number }>();
  private readonly attempts = new RateLimiterMemory({ points: ADDRESS_ATTEMPTS_PER_MIN, duration: 60 });
  private readonly failures = new RateLimiterMemory({ points: ADDRESS_FAILURES, duration: FAILURE_WINDOW_MS / 1000 });
  private pruneTimer: NodeJS.Timeout | null = null;
  readonly idleMs: number;
  readonly maxMs: number;
  readonly cacheMs: number;

  constructor(
    private readonly db: Db,
    readonly options: SessionOptions = { idleMin: 30, maxHours: 12, require2fa: 'off' },
  ) {
    this.idleMs = options.idleMin * 60_000;
    this.maxMs = options.maxHours * 3600_000;
    this.cacheMs = (options.cacheS ?? 60) * 1000;
  }

  /** Throws `rate_limited` (with `details.retryAfterS`) when this address may not try now. */
  private async gate(ip: string): Promise<void> {
    const failed = await this.failures.get(ip);
    if (failed && failed.consumedPoints >= ADDRESS_FAILURES) throw rateLimited(failed, 'failed sign-ins');
    try {
      await this.attempts.consume(ip);
    } catch (e) {
      throw rateLimited(e, 'sign-in attempts');
    }
  }

  private async failed(username: string, ip: string, reason: string, known: boolean): Promise<void> {
    await this.failures.consume(ip).catch(() => {});
    await recordAudit(this.db, {
      kind: 'login_failed',
      actor: null,
      target: username.slice(0, 128),
      ip,
      detail: { reason },
    });
    if (known) await countTowardLock(this.db, username, ip);
  }

  /**
   * Check credentials and open a session. Errors (DomainError): `rate_limited` (429, details.retryAfterS),
   * `account_locked` (423, details.until), `unauthorized` (401: wrong username, password or a disabled
   * account — not told apart), `totp_required` (401: password right, code missing), `unauthorized` with
   * details.reason `totp_invalid` for a wrong or replayed code.
   */
  async login(
    username: string,
    password: string,
    ctx: LoginContext = {},
  ): Promise<{ token: string; user: SessionUser }> {
    const ip = ctx.ip ?? 'unknown';
    await this.gate(ip);
    const state = await getLoginState(this.db, username);
    const now = new Date();
    if (state?.lockedUntil && state.lockedUntil > now) {
      await recordAudit(this.db, {
        kind: 'login_failed',
        actor: null,
        target: username,
        ip,
        detail: { reason: 'locked' },
      });
      throw new DomainError(
        'account_locked',
        'account locked after repeated failed sign-ins: try later or ask an admin',
        {
          until: state.lockedUntil.toISOString(),
        },
      );
    }
    // Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
    const ok = await verifySecret(password, state?.passwordHash ?? DUMMY_HASH);
    if (!ok || !state || state.disabled) {
      await this.failed(username, ip, !state ? 'unknown_user' : state.disabled ? 'disabled' : 'password', !!state);
      throw new DomainError('unauthorized', 'wrong username or password');
    }
    if (state.totpEnabled && state.totpSecret) {
      const code = (ctx.totp ?? '').replace(/\s/g, '');
      if (!code) throw new DomainError('totp_required', 'enter the 6-digit code from your authenticator app');
      const step = await checkTotp(state.totpSecret, code);
      if (step === null || !(await useTotpStep(this.db, username, step))) {
        await this.failed(username, ip, 'totp', true);
        throw new DomainError('unauthorized', 'wrong or already used authenticator code', { reason: 'totp_invalid' });
      }
    }
    await clearLoginFailures(this.db, username);
    await this.failures.delete(ip).catch(() => {});
    const token = newSecret(32);
    const device = !!ctx.device && DEVICE_SESSION_ROLES.includes((await getUser(this.db, username))?.role ?? '');
    const life = device ? DEVICE_SESSION_MS : this.maxMs;
    await insertSession(this.db, sha256Hex(token), username, new Date(now.getTime() + life), now, device);
    const user = await this.user(token);
    if (!user) throw new DomainError('unauthorized', 'wrong username or password');
    await recordAudit(this.db, {
      kind: 'login',
      actor: username,
      ip,
      detail: { totp: state.totpEnabled, mustChangePassword: user.mustChangePassword },
    });
    return { token, user };
  }

  private decorate(u: UserRow): SessionUser {
    return { ...u, totpEnrolmentRequired: this.options.require2fa === 'admin' && u.role === 'admin' && !u.totpEnabled };
  }

  /** The user of a live session, or null (unknown, ended, idle too long, past its lifetime, disabled). */
  async user(token: string | null | undefined): Promise<SessionUser | null> {
    if (!token) return null;
    return this.userByTokenHash(sha256Hex(token));
  }

  /** As `user`, by the token's SHA-256 hex (what long-lived sockets keep instead of the token). */
  async userByTokenHash(key: string): Promise<SessionUser | null> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.user;
    const row = await userBySession(this.db, key);
    if (!row) {
      this.cache.delete(key);
      return null;
    }
    const { expiresAt, lastSeenAt, device, ...u } = row;
    if (expiresAt.getTime() <= now || (!device && lastSeenAt.getTime() + this.idleMs <= now)) {
      await this.end(key, u.username, 'expired', { idle: expiresAt.getTime() > now });
      return null;
    }
    // last_seen_at is refreshed on each database look-up, so at most `cacheMs` behind.
    await touchSession(this.db, key, new Date(now));
    const user = this.decorate(u);
    if (this.cache.size > 10_000) this.cache.clear();
    if (this.cacheMs > 0) this.cache.set(key, { user, until: Math.min(now + this.cacheMs, expiresAt.getTime()) });
    return user;
  }

  private async end(
    tokenHash: string,
    username: string,
    reason: RevocationReason,
    detail: Record<string, unknown> = {},
  ) {
    this.cache.delete(tokenHash);
    const gone = await deleteSession(this.db, tokenHash);
    announceRevocation({ username, tokenHash, reason });
    if (gone && reason === 'expired')
      await recordAudit(this.db, { kind: 'session_expired', actor: null, target: username, detail });
  }

  /** Sign out one session. */
  async logout(token: string, ip: string | null = null): Promise<void> {
    const key = sha256Hex(token);
    this.cache.delete(key);
    const username = await deleteSession(this.db, key);
    if (username) {
      announceRevocation({ username, tokenHash: key, reason: 'logout' });
      await recordAudit(this.db, { kind: 'logout', actor: username, ip });
    }
  }

  /**
   * End every session of a user (but `keepToken`, the caller's own, when given): password change or
   * reset, disable, role or scope change. Cache entries go at once; each end is announced.
   */
  async revokeUser(username: string, reason: RevocationReason, keepToken: string | null = null): Promise<number> {
    const keep = keepToken ? sha256Hex(keepToken) : null;
    const ended = await deleteUserSessions(this.db, username, keep);
    for (const [k, v] of this.cache) if (v.user.username === username) this.cache.delete(k);
    for (const tokenHash of ended) announceRevocation({ username, tokenHash, reason });
    if (!keep) announceRevocation({ username, reason });
    return ended.length;
  }

  /** Forget cached users of an account (after its own session's facts changed, e.g. a password change). */
  forget(username: string): void {
    for (const [k, v] of this.cache) if (v.user.username === username) this.cache.delete(k);
  }

  /** Delete ended sessions (idle or past their lifetime), announcing each. */
  async prune(now = new Date()): Promise<number> {
    const gone = await pruneSessions(this.db, now, this.idleMs);
    for (const g of gone) {
      this.cache.delete(g.tokenHash);
      announceRevocation({ username: g.username, tokenHash: g.tokenHash, reason: 'expired' });
    }
    if (gone.length)
      await recordAudit(this.db, {
        kind: 'session_expired',
        actor: null,
        detail: { sessions: gone.length, users: [...new Set(gone.map((g) => g.username))].slice(0, 50) },
      });
    return gone.length;
  }

  /** Prune every `everyMs` (default a minute) until stop(). */
  startPruning(onError: (e: unknown) => void, everyMs = 60_000): void {
    this.pruneTimer ??= setInterval(() => void this.prune().catch(onError), everyMs);
    this.pruneTimer.unref();
  }

  stop(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
  }
}

/** The accepted time step of a TOTP code (RFC 6238, 30 s steps, ±1 step of clock drift), or null. */
export async function checkTotp(secret: string, code: string): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  try {
    const r = await verifyTotp({ secret, token: code, epochTolerance: 30 });
    return r.valid ? (r as { timeStep: number }).timeStep : null;
  } catch {
    return null;
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
    if (k === SESSION_COOKIE) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

export const SESSION_COOKIE = 'og_session';

/**
 * One more failure toward the account lock (MAX_FAILURES within FAILURE_WINDOW_MS lock the account for
 * LOCK_MS), and the lock audited when this failure sets it. Sign-in and a signed-in session's wrong password
 * or code (ingest/auth/accounts.ts) count alike.
 */
export async function countTowardLock(db: Queryable, username: string, ip: string | null): Promise<void> {
  const r = await recordLoginFailure(db, username, new Date(), {
    windowMs: FAILURE_WINDOW_MS,
    max: MAX_FAILURES,
    lockMs: LOCK_MS,
  });
  if (r.lockedUntil)
    await recordAudit(db, {
      kind: 'account_locked',
      actor: null,
      target: username,
      ip,
      detail: { failures: r.failures, until: r.lockedUntil.toISOString() },
    });
}
