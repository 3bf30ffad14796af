/**
 * Device and gateway authentication at CONNECT, and the topic ACL (CONTRACT.md, "MQTT v1"):
 * username = device or gateway id, password = its secret (scrypt-hashed in the registry).
 *
 * scrypt is deliberately slow (~50 ms of a core), so a verified (id, sha256(secret)) pair is remembered
 * in memory: a reconnect storm of a whole fleet then costs one hash per device, not one per attempt.
 * Failed pairs are remembered for a short while too (a client retrying a wrong secret in a loop must not
 * burn a core), and concurrent checks of one pair share one hash. `invalidate(id)` forgets an id's pairs
 * (secret rotated, device removed).
 */
import type { Client } from 'aedes';
import { sha256Hex, verifySecret } from '../auth/secrets.ts';
import { deviceSecretHash } from '../store/devices.ts';
import type { Queryable } from '../store/db.ts';
import type { DeviceCache } from '../consumer/registry.ts';

/** Who is connected: the device or gateway whose credentials the client presented. */
export interface Principal {
  id: string;
  kind: string;
}

/** CONNACK return codes of MQTT 3.1.1 (§3.2.2.3): 5 = "Connection Refused, not authorized". */
const NOT_AUTHORIZED = 5;

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

  /** aedes `authenticate`: refuse unknown or wrong credentials at CONNECT; preload the device and its children. */
  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: (Error & { returnCode: number }) | null, success: boolean | null) => void,
  ): void => {
    const refuse = () => {
      const e = Object.assign(new Error('not authorized'), { returnCode: NOT_AUTHORIZED });
      done(e, false);
    };
    if (!username || !password || username.length > 128 || password.length > 1024) return refuse();
    this.check(username, password.toString('utf8'))
      .then(async (principal) => {
        if (!principal) return refuse();
        // The device and its children in the cache before the first PUBLISH: the ACL then never waits.
        await this.devices.load(principal.id);
        this.principals.set(client, principal);
        done(null, true);
      })
      .catch(() => refuse());
  };

  /**
   * aedes `authorizeSubscribe`: a device may subscribe under its own `dev/{id}/` (and a gateway under its
   * children's); anything else is refused with return code 0x80 (MQTT 3.1.1 §3.9.3), not a disconnect.
   */
  readonly authorizeSubscribe = (
    client: Client,
    sub: { topic: string; qos: number },
    done: (error: Error | null, subscription?: { topic: string; qos: number } | null) => void,
  ): void => {
    const p = this.principalOf(client);
    const m = /^dev\/([^/+#]+)\//.exec(sub.topic);
    if (p && m && mayActFor(p, m[1], this.devices)) return done(null, sub);
    done(null, null);
  };
}

/**
 * The topic ACL: a principal may publish for itself, and a gateway also for its registered children.
 * `undefined` means the device is not in the cache yet (load it and ask again).
 */
export function mayActFor(p: Principal, deviceId: string, devices: DeviceCache): boolean | undefined {
  if (deviceId === p.id) return true;
  const d = devices.get(deviceId);
  if (d === undefined) return undefined;
  return d !== null && d.gateway === p.id;
}
