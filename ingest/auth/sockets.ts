/**
 * Long-lived sockets (`/live`, `/video/{id}`) and the sessions behind them (GB/T 22239-2019 8.1.4.1: a
 * session that ends, ends everywhere):
 *
 * - `authenticateUpgrade`: who opens the socket — the session cookie or `Authorization: Bearer`, or a
 *   one-use ticket (`?ticket=`, from `POST /api/tickets`, valid 30 s) for clients that can send neither.
 *   Session tokens are never accepted in URLs (they would end up in proxy logs and browser history).
 * - `originAllowed`: a browser's WebSocket always sends `Origin`; it must be this site's own origin or one in
 *   `WS_ALLOWED_ORIGINS` (cross-site WebSocket hijacking with the victim's cookie is refused, 403). A
 *   request without `Origin` is not a browser's and must authenticate like any API client.
 * - `SocketGuard`: each socket remembers its user and session token hash. A revocation (sign-out, expiry,
 *   password change, disable: ingest/auth/revocation.ts) closes the matching sockets at once with close
 *   code 4401; every `recheckMs` (config SESSION_RECHECK_S, default 30 s) each socket's session is checked
 *   again, so expiry closes it too.
 *   At most `maxPerUser` sockets per user and kind: a further one is refused with HTTP 429 before the
 *   upgrade (the sockets already open — the walls in use — are never the ones dropped).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { newSecret, sha256Hex } from './secrets.ts';
import { tokenFromHeaders, type SessionUser } from './sessions.ts';
import { onRevocation, type Revocation } from './revocation.ts';

/** Close code for a socket whose session ended (sign-out, expiry, password change, disable). */
export const CLOSE_SESSION_ENDED = 4401;
/** How often every socket's session is checked again (ms), by default; config SESSION_RECHECK_S sets it. */
export const SESSION_RECHECK_MS = 30_000;
/** Sockets per user: `/live` (one per wall or tab) and `/video` (one per camera tile; a 4×4 wall is 16). */
export const MAX_LIVE_SOCKETS_PER_USER = 20;
export const MAX_VIDEO_SOCKETS_PER_USER = 32;
/** How long a WebSocket ticket stays valid (ms); it is good for one upgrade. */
export const TICKET_TTL_MS = 30_000;

export interface SocketSession {
  user: SessionUser;
  /** SHA-256 hex of the session token the socket was opened with. */
  tokenHash: string;
}

/** One-use, short-lived tickets standing in for a session in a WebSocket URL. In process (per instance). */
export class TicketStore {
  private tickets = new Map<string, { tokenHash: string; username: string; until: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  /** A ticket for the session with this token hash; valid `TICKET_TTL_MS`, for one upgrade. */
  issue(s: { tokenHash: string; username: string }): { ticket: string; expiresAt: string } {
    const t = this.now();
    for (const [k, v] of this.tickets) if (v.until <= t) this.tickets.delete(k);
    const ticket = newSecret(32);
    this.tickets.set(sha256Hex(ticket), { ...s, until: t + TICKET_TTL_MS });
    return { ticket, expiresAt: new Date(t + TICKET_TTL_MS).toISOString() };
  }

  /** The session behind a ticket, once; null when unknown, used or expired. */
  redeem(ticket: string): { tokenHash: string; username: string } | null {
    const key = sha256Hex(ticket);
    const hit = this.tickets.get(key);
    if (!hit) return null;
    this.tickets.delete(key);
    return hit.until > this.now() ? { tokenHash: hit.tokenHash, username: hit.username } : null;
  }
}

export interface UpgradeAuthDeps {
  /** The user of a session token (null: unknown, expired, disabled). */
  userOfToken(token: string): Promise<SessionUser | null>;
  /** The user of a session by its token hash (null: ended). */
  userOfTokenHash(tokenHash: string): Promise<SessionUser | null>;
  tickets: TicketStore;
}

/**
 * Who opens this WebSocket: cookie / bearer token, or a one-use `?ticket=`; null = nobody (401). A session
 * that must first change its password or enrol a second factor gets no socket either, as it gets no API
 * call (web/hooks.server.ts): the gate holds for live data and video too.
 */
export async function authenticateUpgrade(
  req: IncomingMessage,
  url: URL,
  deps: UpgradeAuthDeps,
): Promise<SocketSession | null> {
  const admitted = (user: SessionUser | null) =>
    user && !user.mustChangePassword && !user.totpEnrolmentRequired ? user : null;
  const token = tokenFromHeaders({ cookie: req.headers.cookie, authorization: req.headers.authorization });
  if (token) {
    const user = admitted(await deps.userOfToken(token));
    return user ? { user, tokenHash: sha256Hex(token) } : null;
  }
  const ticket = url.searchParams.get('ticket');
  if (!ticket) return null;
  const t = deps.tickets.redeem(ticket);
  if (!t) return null;
  const user = admitted(await deps.userOfTokenHash(t.tokenHash));
  return user && user.username === t.username ? { user, tokenHash: t.tokenHash } : null;
}

/**
 * Whether a WebSocket upgrade's `Origin` is acceptable: absent (not a browser), this site's own origin
 * (same host as the request's `Host`), or listed in `allowed` (full origins, e.g. https://wall.example.gov.cn).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return !!req.headers.host && host.toLowerCase() === req.headers.host.toLowerCase();
}

/** Refuse an upgrade before it happens, with an HTTP status line. */
export function refuseUpgrade(socket: Duplex, status: 401 | 403 | 404 | 429, extra = ''): void {
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests' }[status];
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
}

/** The sockets of one kind (`/live` or `/video`), per session; closes those whose session ends. */
export class SocketGuard {
  private sockets = new Map<WebSocket, SocketSession>();
  private stopListening: () => void;
  private timer: NodeJS.Timeout;

  constructor(
    private readonly opts: {
      name: string;
      maxPerUser: number;
      /** Whether a session (by token hash) is still valid. */
      stillValid(tokenHash: string): Promise<boolean>;
      /** Re-check period (ms); default SESSION_RECHECK_MS. */
      recheckMs?: number;
      onError?: (err: unknown) => void;
    },
  ) {
    this.stopListening = onRevocation((r) => this.revoke(r));
    this.timer = setInterval(() => void this.recheck(), opts.recheckMs ?? SESSION_RECHECK_MS);
    this.timer.unref();
  }

  /** Whether this user may open one more socket (check before the upgrade; refuse with 429 if not). */
  hasRoom(username: string): boolean {
    let n = 0;
    for (const s of this.sockets.values()) if (s.user.username === username) n++;
    return n < this.opts.maxPerUser;
  }

  /** Track an open socket until it closes. */
  add(ws: WebSocket, s: SocketSession): void {
    this.sockets.set(ws, s);
    ws.once('close', () => this.sockets.delete(ws));
  }

  /** Close the sockets a revocation names (one session, or every session of the user). */
  revoke(r: Revocation): number {
    let n = 0;
    for (const [ws, s] of this.sockets)
      if (s.user.username === r.username && (!r.tokenHash || r.tokenHash === s.tokenHash)) {
        this.end(ws, r.reason);
        n++;
      }
    return n;
  }

  /** Check every socket's session again; close those that ended (expired, deleted, user disabled). */
  async recheck(): Promise<void> {
    const hashes = new Set([...this.sockets.values()].map((s) => s.tokenHash));
    for (const h of hashes) {
      let ok = true;
      try {
        ok = await this.opts.stillValid(h);
      } catch (err) {
        this.opts.onError?.(err); // a database hiccup closes nothing
      }
      if (!ok) for (const [ws, s] of this.sockets) if (s.tokenHash === h) this.end(ws, 'expired');
    }
  }

  get size(): number {
    return this.sockets.size;
  }

  private end(ws: WebSocket, reason: string): void {
    this.sockets.delete(ws);
    try {
      ws.close(CLOSE_SESSION_ENDED, `session ended: ${reason}`);
    } catch {
      ws.terminate();
    }
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  close(): void {
    this.stopListening();
    clearInterval(this.timer);
    this.sockets.clear();
  }
}
