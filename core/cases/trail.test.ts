import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, chainHash, GENESIS_HASH, sealEntry, verifyChain, type TrailEntry } from './trail.ts';
import { applyAction, newCase } from './machine.ts';
import { ctx, dispatcher, GRID, T0 } from './fixtures.test-util.ts';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function sampleTrail(): TrailEntry[] {
  const first = newCase(
    { title: '垃圾 garbage', category: 'city_appearance', location: [117.2, 39.1], grid: GRID, source: 'citizen' },
    T0,
    { id: 'c9' },
  );
  let c = first.case;
  const drafts = [first.trail];
  for (const a of [
    { action: 'register' as const, category: 'city_appearance', priority: 3 as const },
    { action: 'comment' as const, note: '现场有照片' },
    { action: 'dispatch' as const, to: { kind: 'department' as const, id: 'urban_management' } },
  ]) {
    const r = applyAction(c, a, dispatcher, T0 + drafts.length * 1000, ctx);
    c = r.case;
    drafts.push(r.trail);
  }
  const out: TrailEntry[] = [];
  for (const d of drafts) out.push(sealEntry(out[out.length - 1], d, sha256));
  return out;
}

describe('canonicalize', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalize({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
  it('is the same for the same content in any key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(o));
        expect(JSON.parse(canonicalize(o))).toEqual(JSON.parse(JSON.stringify(o)));
      }),
    );
  });
  it('refuses values that do not round-trip', () => {
    expect(() => canonicalize({ a: NaN })).toThrow();
    expect(() => canonicalize({ a: () => 1 })).toThrow();
  });
});

describe('hash chain', () => {
  it('links entries from the genesis hash and verifies', () => {
    const t = sampleTrail();
    expect(t[0].prevHash).toBe(GENESIS_HASH);
    expect(t[1].prevHash).toBe(t[0].hash);
    expect(t[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(t[2].hash).toBe(chainHash(t[1].hash, t[2], sha256));
    expect(verifyChain(t, sha256)).toEqual({ verified: true, brokenAt: null });
    expect(verifyChain([], sha256)).toEqual({ verified: true, brokenAt: null });
  });
  it('detects a modified entry, a removed entry and a reordering', () => {
    const t = sampleTrail();
    const changed = t.map((e) => ({ ...e }));
    changed[2] = { ...changed[2], note: '没有照片' };
    expect(verifyChain(changed, sha256)).toEqual({ verified: false, brokenAt: 2 });
    const dataChanged = t.map((e) => ({ ...e }));
    dataChanged[1] = { ...dataChanged[1], data: { ...dataChanged[1].data, priority: 1 } };
    expect(verifyChain(dataChanged, sha256).brokenAt).toBe(1);
    expect(verifyChain([t[0], t[2], t[3]], sha256).verified).toBe(false);
    expect(verifyChain([t[1], t[0], t[2], t[3]], sha256).brokenAt).toBe(0);
  });
  it('detects any single changed field of any entry (rehashing that entry alone does not help)', () => {
    const t = sampleTrail();
    fc.assert(
      fc.property(
        fc.nat(t.length - 1),
        fc.constantFrom('actor', 'role', 'at', 'note', 'action', 'toState', 'version'),
        (i, field) => {
          const copy = t.map((e) => ({ ...e }));
          const e = copy[i] as unknown as Record<string, unknown>;
          e[field] = typeof e[field] === 'number' ? (e[field] as number) + 1 : `${String(e[field])}!`;
          copy[i].hash = chainHash(copy[i].prevHash, copy[i], sha256);
          const last = t.length - 1;
          // the next entry's prevHash no longer matches; a rewritten tip needs the stored head hash
          expect(verifyChain(copy, sha256)).toEqual(
            i === last ? { verified: true, brokenAt: null } : { verified: false, brokenAt: i + 1 },
          );
          expect(verifyChain(copy, sha256, t[last].hash)).toEqual({
            verified: false,
            brokenAt: i === last ? last : i + 1,
          });
        },
      ),
    );
  });
});
