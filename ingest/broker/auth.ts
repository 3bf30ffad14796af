/**
 * Device and gateway authentication at CONNECT, the client-id rule, failed-CONNECT rate limits, and the
 * topic ACL (CONTRACT.md, "MQTT v1"; README "Security → MQTT"): username = device or gateway id,
 * password = its secret (scrypt-hashed in the registry).
 *
 * The same functions serve the embedded broker (aedes hooks below) and an external broker (EMQX's HTTP
 * authentication and authorisation hooks, `POST /api/mqtt/auth` and `POST /api/mqtt/acl`): `clientIdAllowed`,
 * `ConnectLimiter` and `topicAcl` are the one definition of what a client may do.
 *
 * scrypt is deliberately slow (~50 ms of a core), so a verified (id, sha256(secret)) pair is remembered
 * in memory: a reconnect storm of a whole fleet then costs one hash per device, not one per attempt.
 * Failed pairs are remembered for a short while too, and concurrent checks of one pair share one hash.
 * Failed CONNECTs are counted per id and per address (rate-limiter-flexible); while either is over its
 * limit a CONNECT whose pair is not already known good is refused at once, without running scrypt.
 * `invalidate(id)` forgets an id's pairs (secret rotated, device removed).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Client } from 'aedes';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { sha256Hex, verifySecret } from '../auth/secrets.ts';
import { deviceSecretHash } from '../store/devices.ts';
import type { Queryable } from '../store/db.ts';
import type { DeviceCache } from '../consumer/registry.ts';

/** Who is connected: the device or gateway whose credentials the client presented (or the OneGrid service). */
export interface Principal {
  id: string;
  kind: string;
}

/**
 * The OneGrid processes' own broker principal in external-broker mode (ingest and the web tier's bus),
 * authenticated with `MQTT_SERVICE_SECRET`. A registered id starts with a letter or digit, so no device
 * can be called this.
 */
export const SERVICE_ID = '_onegrid';
export const SERVICE_KIND = 'service';

/** Longest client id accepted, characters (MQTT 3.1.1 §3.1.3.1 lets a server refuse long ids). */
export const MAX_CLIENT_ID = 128;
/** The suffix after `{id}` and a separator in a client id: 1–64 letters, digits, `.`, `_`, `-`. */
export const CLIENT_ID_SUFFIX = /^[A-Za-z0-9._-]{1,64}$/;
/**
 * Separators between the principal id and a suffix. `:` never occurs in a registered id, so `{id}:{suffix}`
 * can never be another principal's id; `-`, `_` and `.` do occur in ids (devices' own tools commonly connect
 * as `{id}-startup`, `{id}_1`), so such a client id is allowed only when it is not itself a registered id.
 */
const SEPARATORS = new Set([':', '-', '_', '.']);

/**
 * The shape of a client id for a client authenticated as `principalId` (README "Security → MQTT"):
 * - `own`: the principal's id itself;
 * - `suffixed-safe`: `{id}:{suffix}`, never another principal's id;
 * - `suffixed`: `{id}{-|_|.}{suffix}`: allowed unless it is another registered principal's id;
 * - `refused`: anything else — another principal's id, an empty id, an id over MAX_CLIENT_ID characters.
 * A second connection of the same principal with the same client id is the only takeover there is
 * (MQTT 3.1.1 §3.1.4-2).
 */
export function clientIdShape(principalId: string, clientId: string): 'own' | 'suffixed-safe' | 'suffixed' | 'refused' {
  if (!clientId || clientId.length > MAX_CLIENT_ID) return 'refused';
  if (clientId === principalId) return 'own';
  const sep = clientId[principalId.length];
  if (
    clientId.length > principalId.length + 1 &&
    clientId.startsWith(principalId) &&
    SEPARATORS.has(sep) &&
    CLIENT_ID_SUFFIX.test(clientId.slice(principalId.length + 1))
  )
    return sep === ':' ? 'suffixed-safe' : 'suffixed';
  return 'refused';
}

/**
 * Whether `clientId` is allowed for `principalId`; `isRegistered` answers whether an id names a registered
 * principal (consulted only for `-`/`_`/`.` suffixes).
 */
export async function clientIdAllowed(
  principalId: string,
  clientId: string,
  isRegistered: (id: string) => Promise<boolean>,
): Promise<boolean> {
  const shape = clientIdShape(principalId, clientId);
  if (shape === 'refused') return false;
  if (shape === 'suffixed') return !(await isRegistered(clientId));
  return true;
}

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3). */
export const CONNACK = { IDENTIFIER_REJECTED: 2, NOT_AUTHORIZED: 5 } as const;

/** Failed-CONNECT limits: `points` failures per `durationS` seconds, then refused for `blockS` seconds. */
export interface ConnectLimits {
  perId: { points: number; durationS: number; blockS: number };
  perAddress: { points: number; durationS: number; blockS: number };
}
export const CONNECT_LIMITS: ConnectLimits = {
  perId: { points: 10, durationS: 60, blockS: 300 },
  perAddress: { points: 30, durationS: 60, blockS: 300 },
};

/** Counts failed CONNECTs per claimed id and per remote address (in memory, per process). */
export class ConnectLimiter {
  private readonly byId: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;
  /** CONNECTs refused because a limit was reached (no credential check was run). */
  refused = 0;

  constructor(readonly limits: ConnectLimits = CONNECT_LIMITS) {
    const mk = (l: ConnectLimits['perId'], keyPrefix: string) =>
      new RateLimiterMemory({ keyPrefix, points: l.points, duration: l.durationS, blockDuration: l.blockS });
    this.byId = mk(limits.perId, 'mqtt-id');
    this.byAddress = mk(limits.perAddress, 'mqtt-addr');
  }

  /** Whether the id or the address has used up its failures; a limited attempt counts as one more. */
  async limited(id: string, address: string | null): Promise<boolean> {
    const [a, b] = await Promise.all([this.byId.get(id), address ? this.byAddress.get(address) : null]);
    const over =
      (a !== null && a.consumedPoints >= this.limits.perId.points) ||
      (b !== null && b.consumedPoints >= this.limits.perAddress.points);
    if (over) {
      this.refused++;
      await this.failed(id, address);
    }
    return over;
  }

  /** Count one failed CONNECT against the id and the address. */
  async failed(id: string, address: string | null): Promise<void> {
    // consume() rejects once the limit is passed (and starts the block): that is the point, not an error.
    await Promise.all([
      this.byId.consume(id).catch(() => {}),
      address ? this.byAddress.consume(address).catch(() => {}) : null,
    ]);
  }
}

/** The remote address of an aedes client (TCP, TLS or WebSocket). */
export function clientAddress(client: Client): string | null {
  const c = client as unknown as {
    req?: { socket?: { remoteAddress?: string } };
    conn?: { remoteAddress?: string };
  };
  return c.req?.socket?.remoteAddress ?? c.conn?.remoteAddress ?? null;
}

/** Outcome of a CONNECT: the principal, or the CONNACK return code to refuse with. */
export type ConnectResult = { ok: true; principal: Principal } | { ok: false; returnCode: 2 | 5; reason: string };

/** Whether `secret` is the service secret (constant time; false when no service secret is configured). */
export function serviceSecretMatches(secret: string, configured: string | null | undefined): boolean {
  if (!configured) return false;
  return timingSafeEqual(
    createHash('sha256').update(secret).digest(),
    createHash('sha256').update(configured).digest(),
  );
}

/**
 * Admit or refuse one CONNECT, in this order: shape (username and password present, bounded) → failed-CONNECT
 * limits (refused at once, no hash, unless `knownGood` says the pair was verified before) → credentials
 * (`check`, or the service secret for SERVICE_ID) → client-id rule. Bad credentials count against the
 * limits; a refused client id does not (the pair was valid and is cached, so it costs no hash).
 */
export async function admitConnect(
  deps: {
    check(id: string, secret: string): Promise<Principal | null>;
    limiter: ConnectLimiter;
    knownGood?(id: string, secret: string): boolean;
    serviceSecret?: string | null;
    /** Whether an id names a registered principal (device or gateway). */
    isRegistered(id: string): Promise<boolean>;
  },
  req: { username: string | undefined; password: string | undefined; clientId: string; address: string | null },
): Promise<ConnectResult> {
  const { username, password, clientId, address } = req;
  const refuse = (returnCode: 2 | 5, reason: string): ConnectResult => ({ ok: false, returnCode, reason });
  if (!username || !password || username.length > MAX_CLIENT_ID || password.length > 1024) {
    await deps.limiter.failed(username?.slice(0, MAX_CLIENT_ID) ?? '', address);
    return refuse(CONNACK.NOT_AUTHORIZED, 'bad_credentials');
  }
  if (!deps.knownGood?.(username, password) && (await deps.limiter.limited(username, address)))
    return refuse(CONNACK.NOT_AUTHORIZED, 'rate_limited');
  const principal =
    username === SERVICE_ID
      ? serviceSecretMatches(password, deps.serviceSecret)
        ? { id: SERVICE_ID, kind: SERVICE_KIND }
        : null
      : await deps.check(username, password);
  if (!principal) {
    await deps.limiter.failed(username, address);
    return refuse(CONNACK.NOT_AUTHORIZED, 'bad_credentials');
  }
  if (!(await clientIdAllowed(principal.id, clientId, deps.isRegistered)))
    return refuse(CONNACK.IDENTIFIER_REJECTED, 'client_id');
  return { ok: true, principal };
}

export class DeviceAuth {
  private readonly ok = new Map<string, Principal>();
  private readonly failedUntil = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<Principal | null>>();
  private readonly keysOf = new Map<string, Set<string>>();
  private readonly principals = new WeakMap<object, Principal>();

  constructor(
    private readonly db: Queryable,
    private readonly devices: DeviceCache,
    private readonly now: () => number,
    private readonly failTtlMs = 30_000,
    readonly limiter = new ConnectLimiter(),
  ) {}

  /** Check a credential; the principal, or null when unknown or wrong. */
  async check(id: string, secret: string): Promise<Principal | null> {
    const key = `${id}\n${sha256Hex(secret)}`;
    const hit = this.ok.get(key);
    if (hit) return hit;
    const until = this.failedUntil.get(key);
    if (until !== undefined && until > this.now()) return null;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.verify(id, secret, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Whether this exact pair was verified before (checking it again costs no hash). */
  knownGood(id: string, secret: string): boolean {
    return this.ok.has(`${id}\n${sha256Hex(secret)}`);
  }

  private async verify(id: string, secret: string, key: string): Promise<Principal | null> {
    const row = await deviceSecretHash(this.db, id);
    const good = !!row && (await verifySecret(secret, row.hash));
    let keys = this.keysOf.get(id);
    if (!keys) this.keysOf.set(id, (keys = new Set()));
    keys.add(key);
    if (!good) {
      if (this.failedUntil.size > 100_000) this.failedUntil.clear();
      this.failedUntil.set(key, this.now() + this.failTtlMs);
      return null;
    }
    const principal: Principal = { id, kind: row!.kind };
    this.ok.set(key, principal);
    return principal;
  }

  /** Forget cached verifications of an id (secret rotated, device removed). */
  invalidate(id: string): void {
    const keys = this.keysOf.get(id);
    if (!keys) return;
    for (const k of keys) {
      this.ok.delete(k);
      this.failedUntil.delete(k);
    }
    this.keysOf.delete(id);
  }

  principalOf(client: object | null): Principal | null {
    return client ? (this.principals.get(client) ?? null) : null;
  }

  /**
   * aedes `authenticate` (runs before aedes registers the client id, so a refusal here never disconnects
   * the current holder of that id): `admitConnect`, then the device and its children are loaded into the
   * cache before the first PUBLISH, so the ACL never waits.
   */
  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: number }) | null, success: boolean | null) => void,
  ): void => {
    const secret = password?.toString('utf8');
    admitConnect(
      {
        check: (id, s) => this.check(id, s),
        limiter: this.limiter,
        knownGood: (id, s) => this.knownGood(id, s),
        isRegistered: async (id) => {
          await this.devices.load(id);
          return !!this.devices.get(id);
        },
      },
      { username, password: secret, clientId: client.id, address: clientAddress(client) },
    )
      .then(async (r) => {
        if (!r.ok) return done(Object.assign(new Error(r.reason), { returnCode: r.returnCode }), false);
        await this.devices.load(r.principal.id);
        this.principals.set(client, r.principal);
        done(null, true);
      })
      .catch(() => done(Object.assign(new Error('not authorized'), { returnCode: CONNACK.NOT_AUTHORIZED }), false));
  };

  /**
   * aedes `authorizeSubscribe`: `topicAcl` with action subscribe; a refused subscription gets return code
   * 0x80 in the SUBACK (MQTT 3.1.1 §3.9.3), not a disconnect.
   */
  readonly authorizeSubscribe = (
    client: Client,
    sub: { topic: string; qos: number },
    done: (error: Error | null, subscription?: { topic: string; qos: number } | null) => void,
  ): void => {
    const p = this.principalOf(client);
    if (!p) return done(null, null);
    decideTopic(p, sub.topic, 'subscribe', this.devices)
      .then((ok) => done(null, ok ? sub : null))
      .catch(() => done(null, null));
  };
}

/** What a client asks to do with a topic (EMQX's `${action}`). */
export type AclAction = 'publish' | 'subscribe';

/** Topics of the web tiers' bus in external-broker mode (ingest/live/bus.ts). */
export const BUS_PREFIX = 'onegrid/bus/';

/** A Frigate NVR topic (`frigate/events`, `frigate/reviews`, `frigate/available`, `frigate/stats`, …). */
export function isFrigateTopic(topic: string): boolean {
  return topic.startsWith('frigate/');
}

const SHARED = /^\$share\/[^/+#]+\//;
const DEV_TOPIC = /^dev\/([^/+#]+)\/./;

/**
 * THE topic ACL (CONTRACT.md "MQTT v1", README "Security → MQTT"), for the embedded broker and for an
 * external broker's HTTP authorisation (`POST /api/mqtt/acl`) alike. `true` allow, `false` deny,
 * `undefined` when the device named in the topic is not in the cache yet (load it and ask again):
 *
 * - a device or gateway: publish and subscribe under `dev/{its id}/…`; a gateway also under each registered
 *   child's `dev/{child}/…` (`mayActFor`); publish Frigate topics (`frigate/…`) only when it is a gateway
 *   (the NVR; each Frigate event must still name a camera that is its child, checked on the payload);
 *   nothing else (no `$share`, `$SYS`, `#`, `onegrid/bus/…`, other devices' topics);
 * - the OneGrid service (SERVICE_ID, external mode): subscribe to `dev/…` and `frigate/…` (also as
 *   `$share/{group}/…`), publish and subscribe under `onegrid/bus/`; it never publishes as a device.
 */
export function topicAcl(
  p: Principal,
  topic: string,
  action: AclAction,
  devices: Pick<DeviceCache, 'get'>,
): boolean | undefined {
  if (action !== 'publish' && action !== 'subscribe') return false;
  if (p.id === SERVICE_ID && p.kind === SERVICE_KIND) {
    const t = action === 'subscribe' ? topic.replace(SHARED, '') : topic;
    if (t.startsWith(BUS_PREFIX)) return true;
    return action === 'subscribe' && (t.startsWith('dev/') || isFrigateTopic(t));
  }
  if (action === 'publish' && isFrigateTopic(topic)) return p.kind === 'gateway';
  const m = DEV_TOPIC.exec(topic);
  if (!m) return false;
  return mayActFor(p, m[1], devices);
}

/** `topicAcl`, loading the named device into the cache first when it is not there yet. */
export async function decideTopic(
  p: Principal,
  topic: string,
  action: AclAction,
  devices: Pick<DeviceCache, 'get' | 'load'>,
): Promise<boolean> {
  const first = topicAcl(p, topic, action, devices);
  if (first !== undefined) return first;
  const m = DEV_TOPIC.exec(topic);
  if (m) await devices.load(m[1]);
  return topicAcl(p, topic, action, devices) === true;
}

/**
 * May principal `p` act for device `deviceId`: itself, and a gateway also for its registered children.
 * `undefined` means the device is not in the cache yet (load it and ask again). The consumer uses this for
 * every publish it receives; `topicAcl` builds on it.
 */
export function mayActFor(p: Principal, deviceId: string, devices: Pick<DeviceCache, 'get'>): boolean | undefined {
  if (deviceId === p.id) return true;
  const d = devices.get(deviceId);
  if (d === undefined) return undefined;
  return d !== null && d.gateway === p.id;
}

/**
 * The external broker's URL with the service login (`_onegrid` / MQTT_SERVICE_SECRET) when the URL carries
 * no user of its own and a secret is configured; otherwise the URL unchanged.
 */
export function serviceBrokerUrl(url: string, secret: string | null): string {
  if (!secret) return url;
  const u = new URL(url);
  if (u.username) return url;
  u.username = SERVICE_ID;
  u.password = secret;
  return u.toString();
}
