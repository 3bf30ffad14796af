/**
 * The trail (全程留痕) as a hash chain: each entry's hash is SHA-256 over the previous entry's hash and
 * the entry's canonical JSON, so changing, removing or reordering any stored entry breaks every hash after
 * it. The hash function is passed in (`sha256: (s) => hex`) so the core stays platform-free; the server
 * hands in node:crypto's createHash, a browser could hand in a WebCrypto-backed one.
 */
import type { TrailEntryDraft } from './types.ts';

export type Sha256 = (s: string) => string;

/** prevHash of the first entry of every case. */
export const GENESIS_HASH = '0'.repeat(64);

/** A stored trail entry: the draft plus its position and chain hashes. */
export interface TrailEntry extends TrailEntryDraft {
  /** 0-based position in the case's trail. */
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * Stable JSON: object keys sorted by code unit, no whitespace, `undefined` members left out (as
 * JSON.stringify does), non-finite numbers refused (they do not round-trip through JSON).
 */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('cannot canonicalize a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return '[' + value.map((v) => (v === undefined ? 'null' : canonicalize(v))).join(',') + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalize(obj[k])).join(',') + '}';
    }
    default:
      throw new TypeError(`cannot canonicalize a ${typeof value}`);
  }
}

/** The hashed content of an entry: everything except `hash` and `prevHash` themselves. */
function content(entry: TrailEntryDraft & { seq: number }): unknown {
  const { hash: _h, prevHash: _p, ...rest } = entry as TrailEntry;
  return rest;
}

/** hex SHA-256 of `prevHash + "\n" + canonical JSON of the entry` (hash and prevHash excluded). */
export function chainHash(prevHash: string, entry: TrailEntryDraft & { seq: number }, sha256: Sha256): string {
  return sha256(prevHash + '\n' + canonicalize(content(entry)));
}

/** Chain a draft onto the trail whose last entry is `prev` (undefined for the first entry). */
export function sealEntry(prev: TrailEntry | undefined, draft: TrailEntryDraft, sha256: Sha256): TrailEntry {
  const seq = prev ? prev.seq + 1 : 0;
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  const entry = { ...draft, seq };
  return { ...entry, prevHash, hash: chainHash(prevHash, entry, sha256) };
}

export interface ChainVerdict {
  verified: boolean;
  /** Index of the first entry that does not check out; null when verified. */
  brokenAt: number | null;
}

/**
 * Check every link: sequence numbers, prevHash = previous hash, and each hash recomputed. A chain alone
 * cannot notice its last entry rewritten and rehashed; pass `expectedHead` (the head hash kept elsewhere,
 * e.g. on the case row) to catch that too.
 */
export function verifyChain(entries: readonly TrailEntry[], sha256: Sha256, expectedHead?: string): ChainVerdict {
  let prev = GENESIS_HASH;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    let ok = e.seq === i && e.prevHash === prev;
    if (ok) {
      try {
        ok = chainHash(prev, e, sha256) === e.hash;
      } catch {
        ok = false;
      }
    }
    if (!ok) return { verified: false, brokenAt: i };
    prev = e.hash;
  }
  if (expectedHead !== undefined && prev !== expectedHead) {
    return { verified: false, brokenAt: Math.max(0, entries.length - 1) };
  }
  return { verified: true, brokenAt: null };
}
