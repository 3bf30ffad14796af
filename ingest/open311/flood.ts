/**
 * Flood control for POST service request (issue 11, finding 7: one key posted 150 identical requests in
 * 0.8 s and made 150 cases).
 *
 * - Rate limits (rate-limiter-flexible, in memory, per process): every POST counts against the client's
 *   address, and, once its api_key is verified, against the key. Over the limit → HTTP 429 with
 *   `Retry-After` (seconds), in the GeoReport error format (a list of `{code, description}`).
 * - Folding: a submission identical to one made shortly before — same api_key or same address, same
 *   service_code, same description (after trimming and collapsing white space), location within
 *   FOLD_RADIUS_M — within the fold window becomes no new case: the answer is the earlier request's id
 *   (201, as for the first). Submissions of one fingerprint are serialised in this process so that a burst
 *   of identical posts cannot race past the check (the limits bound what a burst can do across replicas).
 */
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { haversineM } from '../../core/rules/geo.ts';

/** Great-circle distance in metres between two [lng, lat] points. */
export const distanceM = haversineM;

export interface FloodLimits {
  /** POSTs per minute per api_key. */
  perKeyPerMinute: number;
  /** POSTs per minute per client address. */
  perAddressPerMinute: number;
  /** How long an identical submission folds into the first, ms. */
  foldWindowMs: number;
}

export const DEFAULT_FLOOD_LIMITS: FloodLimits = {
  perKeyPerMinute: 120, // a city app's server posts for many citizens through one key
  perAddressPerMinute: 30,
  foldWindowMs: 10 * 60_000,
};

/** Two submissions this close (metres) count as the same place. */
export const FOLD_RADIUS_M = 50;

/** The refusal of a limit: how long to wait. */
export class RateLimited extends Error {
  constructor(
    readonly retryAfterS: number,
    readonly what: 'key' | 'address',
  ) {
    super(`rate limited (${what}); retry after ${retryAfterS} s`);
    this.name = 'RateLimited';
  }
}

export class FloodGuard {
  private readonly byKey: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(readonly limits: FloodLimits = DEFAULT_FLOOD_LIMITS) {
    this.byKey = new RateLimiterMemory({ keyPrefix: 'o311k', points: limits.perKeyPerMinute, duration: 60 });
    this.byAddress = new RateLimiterMemory({ keyPrefix: 'o311a', points: limits.perAddressPerMinute, duration: 60 });
  }

  /** Count one POST from `address`; throws RateLimited over the limit. */
  address(address: string | null): Promise<void> {
    return address ? this.consume(this.byAddress, address, 'address') : Promise.resolve();
  }

  /** Count one POST with the (verified) key `keyId`; throws RateLimited over the limit. */
  key(keyId: string): Promise<void> {
    return this.consume(this.byKey, keyId, 'key');
  }

  private async consume(l: RateLimiterMemory, id: string, what: 'key' | 'address'): Promise<void> {
    try {
      await l.consume(id);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw new RateLimited(Math.max(1, Math.ceil(e.msBeforeNext / 1000)), what);
      throw e;
    }
  }

  /** Run `fn` after every earlier call with the same `key` has finished (in this process). */
  async serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.chains.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    }
  }
}

/** What makes two submissions the same report: service_code and the description, white space collapsed. */
export function fingerprintOf(serviceCode: string, description: string | undefined): string {
  const d = (description ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
  return createHash('sha256').update(`${serviceCode}\n${d}`).digest('hex');
}
