/**
 * `/live`: server → client JSON over WebSocket, only what each user may see (CONTRACT.md HTTP API).
 * Every message carries a `seq`; a client that reconnects with `?since=SEQ` gets what it missed from a
 * ring buffer, or `{"type": "resync"}` when the gap is too old, and then refetches.
 * Slow clients cannot grow memory: past a bound of buffered bytes they are dropped (and reconnect).
 * Sessions (ingest/auth/sockets.ts): cookie, bearer or one-use `?ticket=`; closed with 4401 within a second
 * of sign-out, expiry, password change or disable; at most MAX_LIVE_SOCKETS_PER_USER per user (429 beyond).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Gauge, Counter, type Registry } from 'prom-client';
import type { SessionUser } from '../auth/sessions.ts';
import { scopeOf } from '../auth/scope.ts';
import {
  authenticateUpgrade,
  refuseUpgrade,
  SocketGuard,
  MAX_LIVE_SOCKETS_PER_USER,
  type UpgradeAuthDeps,
} from '../auth/sockets.ts';
import type { Bus } from './bus.ts';
import type { Logger } from '../log.ts';

export type LiveType = 'case' | 'device' | 'grid' | 'kpi' | 'camera' | 'event' | 'patrol' | 'video';

/** What a message may be seen by: users whose grid scope covers `grid`, or whose department is listed. */
export interface Audience {
  grid: string | null; // a grid code (any level); null = everyone signed in
  departments?: string[];
}

export interface LiveMessage {
  type: LiveType;
  [k: string]: unknown;
}

interface Envelope {
  seq: number;
  audience: Audience;
  text: string; // serialised once, sent to many
}

const RING = 5000; // messages kept for resync
const MAX_BUFFERED = 4 * 1024 * 1024; // bytes queued per client before it is dropped

/**
 * Whether a user may see a message, by the one read-scope rule (ingest/auth/scope.ts): admin sees all;
 * `grid: null` addresses everyone signed in; a department handler sees what names its department (assigned
 * or whistled, as core/cases/machine.ts says), within its grid scope if it has one; a grid-scoped user sees
 * messages about grids inside its scope; `grid: ''` (outside every grid) only unscoped users.
 */
export function maySee(user: SessionUser, a: Audience): boolean {
  const s = scopeOf(user);
  if (s.none) return false;
  if (s.all || a.grid === null) return true;
  if (s.grids && !a.grid.startsWith(s.grids)) return false;
  if (s.department) return !!a.departments?.includes(s.department);
  return true;
}

export class LiveHub {
  private wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  private clients = new Map<WebSocket, SessionUser>();
  private ring: Envelope[] = [];
  private seq = 0;
  private unsubscribe: () => void;
  private gauge: Gauge;
  private sent: Counter;
  private dropped: Counter;

  readonly guard: SocketGuard;

  constructor(
    private readonly deps: {
      auth: UpgradeAuthDeps;
      /** Whether a session (by token hash) is still valid: the periodic re-check. */
      stillValid(tokenHash: string): Promise<boolean>;
      bus: Bus;
      log: Logger;
      registry: Registry;
      maxPerUser?: number;
      /** The periodic re-check's period (ms); default SESSION_RECHECK_MS. */
      recheckMs?: number;
    },
  ) {
    this.guard = new SocketGuard({
      name: 'live',
      maxPerUser: deps.maxPerUser ?? MAX_LIVE_SOCKETS_PER_USER,
      stillValid: deps.stillValid,
      recheckMs: deps.recheckMs,
      onError: (err) => deps.log.warn({ err }, '/live session re-check failed'),
    });
    this.gauge = new Gauge({
      name: 'onegrid_ws_clients',
      help: 'connected /live WebSocket clients',
      registers: [deps.registry],
    });
    this.sent = new Counter({
      name: 'onegrid_live_messages_sent_total',
      help: 'messages sent to /live clients',
      registers: [deps.registry],
    });
    this.dropped = new Counter({
      name: 'onegrid_live_clients_dropped_total',
      help: '/live clients dropped for falling behind',
      registers: [deps.registry],
    });
    // Every instance delivers what any instance published (scaled mode: through the broker).
    this.unsubscribe = deps.bus.subscribe('live', (m) =>
      this.deliver(m as unknown as { audience: Audience; msg: LiveMessage }),
    );
  }

  /** Publish to every instance's clients that may see it. */
  publish(msg: LiveMessage, audience: Audience): void {
    this.deps.bus.publish('live', { audience, msg });
  }

  private deliver({ audience, msg }: { audience: Audience; msg: LiveMessage }): void {
    const env: Envelope = { seq: ++this.seq, audience, text: JSON.stringify({ ...msg, seq: this.seq }) };
    this.ring.push(env);
    if (this.ring.length > RING) this.ring.splice(0, this.ring.length - RING);
    for (const [ws, user] of this.clients) if (maySee(user, audience)) this.send(ws, env.text);
  }

  private send(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      this.dropped.inc();
      ws.close(4008, 'too slow: reconnect and resync');
      return;
    }
    ws.send(text);
    this.sent.inc();
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const session = await authenticateUpgrade(req, url, this.deps.auth);
    if (!session) return refuseUpgrade(socket, 401);
    if (!this.guard.hasRoom(session.user.username)) return refuseUpgrade(socket, 429);
    const user = session.user;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.clients.set(ws, user);
      this.guard.add(ws, session);
      this.gauge.set(this.clients.size);
      ws.on('close', () => {
        this.clients.delete(ws);
        this.gauge.set(this.clients.size);
      });
      ws.on('error', () => ws.terminate());
      ws.on('message', () => {
        /* clients only listen; pings are handled by ws */
      });
      const since = Number(url.searchParams.get('since'));
      ws.send(
        JSON.stringify({
          type: 'hello',
          seq: this.seq,
          user: {
            username: user.username,
            role: user.role,
            scope: user.scopeGrid,
            department: user.scopeDepartment,
          },
        }),
      );
      if (Number.isInteger(since) && since > 0 && since < this.seq) {
        const oldest = this.ring[0]?.seq ?? this.seq + 1;
        if (since + 1 < oldest) ws.send(JSON.stringify({ type: 'resync', seq: this.seq }));
        else for (const e of this.ring) if (e.seq > since && maySee(user, e.audience)) this.send(ws, e.text);
      }
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The users connected to this instance (one entry per socket). */
  users(): SessionUser[] {
    return [...this.clients.values()];
  }

  /**
   * Send a message to this instance's clients that `to` picks, outside the numbered stream: no seq, not
   * kept for replay (a snapshot such as `kpi`, which the next one replaces; a reconnecting wall refetches).
   */
  sendLocal(msg: LiveMessage, to: (user: SessionUser) => boolean): number {
    const text = JSON.stringify(msg);
    let n = 0;
    for (const [ws, user] of this.clients)
      if (to(user)) {
        this.send(ws, text);
        n++;
      }
    return n;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.guard.close();
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
    this.wss.close();
  }
}
