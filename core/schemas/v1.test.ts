import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  REJECT_REASONS,
  decodeEvent,
  decodeFrigate,
  decodeStatus,
  decodeTelemetry,
  parseTopic,
  pgSafeJson,
  timestampMs,
} from './index.ts';

const reasons = new Set<string>(REJECT_REASONS);

describe('v1 decoders', () => {
  it('never throw, and answer a value or a known reason, for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const r of [decodeTelemetry(v), decodeEvent(v), decodeFrigate(v)]) {
          if (!r.ok) expect(reasons.has(r.reason)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accept what the contract shows, with ISO-8601 or epoch-ms times', () => {
    const t = decodeTelemetry([
      { ts: '2026-11-24T10:00:00Z', seq: 0, metrics: { temp_c: 21.5 } },
      { ts: 1_764_000_000_000, metrics: { rh: 40 }, loc: [117.2, 39.1] },
    ]);
    expect(t.ok && t.value.map((x) => x.ts)).toEqual([Date.parse('2026-11-24T10:00:00Z'), 1_764_000_000_000]);
    const e = decodeEvent({ ts: 1, seq: 3, type: 'fire_alarm', severity: 'critical', attrs: { zone: 'B2' } });
    expect(e.ok && e.value).toMatchObject({ type: 'fire_alarm', severity: 'critical', seq: 3 });
    expect(decodeStatus('online')).toEqual({ ok: true, value: true });
    expect(decodeStatus(' offline ')).toEqual({ ok: true, value: false });
  });

  it('give coordinates out of range their own reason', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (lng, lat) => {
          const r = decodeTelemetry({ ts: 1, metrics: { a: 1 }, loc: [lng, lat] });
          const inside = lng >= -180 && lng <= 180 && lat >= -90 && lat <= 90;
          expect(r.ok ? 'ok' : r.reason).toBe(inside ? 'ok' : 'bad_coordinates');
        },
      ),
    );
  });

  it('refuse what PostgreSQL would refuse (U+0000, lone surrogates, non-finite numbers, deep nesting)', () => {
    expect(decodeTelemetry({ ts: 1, metrics: { 'a\u0000': 1 } }).ok).toBe(false);
    expect(decodeEvent({ ts: 1, type: 'fault', attrs: { s: '\ud800' } }).ok).toBe(false);
    expect(decodeEvent({ ts: 1, type: 'fault', attrs: { s: '\ud83d\ude00' } }).ok).toBe(true);
    expect(decodeTelemetry({ ts: 1, metrics: { a: Infinity } }).ok).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(pgSafeJson(deep)).toBe(false);
    // Not a calendar date: refused (Date.parse would roll it over to 2 March).
    expect(timestampMs('2026-02-30T00:00:00Z')).toBeNull();
    expect(timestampMs('not a time')).toBeNull();
  });

  it('parse only v1 topics', () => {
    expect(parseTopic('dev/gw-01/telemetry')).toEqual({ kind: 'telemetry', deviceId: 'gw-01' });
    expect(parseTopic('frigate/events')).toEqual({ kind: 'frigate', deviceId: null });
    for (const t of ['dev/a/cmd', 'dev//event', 'dev/a/b/status', 'devx/a/event', 'dev/a', '', 'dev/a\u0000/event'])
      expect(parseTopic(t)).toBeNull();
  });
});
