import { describe, expect, it } from 'vitest';
import { judgeDeviceTime, parseDeviceTime, ruleTime, zoneOffsetMs } from './device-time.ts';
import {
  decodeEvent,
  decodeFrigate,
  decodeFrigateReview,
  decodeFrigateStats,
  decodeTelemetry,
  frigateTopic,
} from './v1.ts';

const T = Date.parse('2026-11-29T12:15:00Z');
const SH = 'Asia/Shanghai';

describe('device time', () => {
  it('tells epoch seconds from epoch ms by magnitude (never 1970)', () => {
    expect(parseDeviceTime(1795954500, SH)).toEqual({ ok: true, ms: T, local: false });
    expect(parseDeviceTime(1795954500000, SH)).toEqual({ ok: true, ms: T, local: false });
    expect(parseDeviceTime(1795954500.5, SH)).toMatchObject({ ms: T + 500 });
    expect(parseDeviceTime('1795954500', SH)).toMatchObject({ ms: T });
  });

  it('reads offsets in every ISO 8601 form devices send', () => {
    for (const s of [
      '2026-11-29T12:15:00Z',
      '2026-11-29T20:15:00+08:00',
      '2026-11-29T20:15:00+0800',
      '2026-11-29T20:15:00+08',
      '2026-11-29 20:15:00+08:00',
      '2026-11-29T12:15:00.000Z',
    ])
      expect(parseDeviceTime(s, null), s).toMatchObject({ ok: true, ms: T });
  });

  it('reads a local time without offset in the given zone, or refuses it naming the missing offset', () => {
    expect(parseDeviceTime('2026-11-29T20:15:00', SH)).toEqual({ ok: true, ms: T, local: true });
    expect(parseDeviceTime('2026-11-29 20:15:00', SH)).toEqual({ ok: true, ms: T, local: true });
    expect(parseDeviceTime('2026-11-29 07:15:00', 'America/New_York')).toMatchObject({ ms: T });
    const r = parseDeviceTime('2026-11-29T20:15:00', null);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.detail).toContain('without a UTC offset');
      expect(r.detail).not.toContain('not a time');
    }
    expect(zoneOffsetMs(T, SH)).toBe(8 * 3600_000);
  });

  it('refuses what is not a time with a reason', () => {
    for (const s of ['yesterday', '2026-02-30T00:00:00Z', '2026-11-29', '2026-13-01T00:00:00Z'])
      expect(parseDeviceTime(s, SH).ok, s).toBe(false);
  });

  it('flags implausible device times and picks the time rules reason with', () => {
    const w = { futureS: 300, lateS: 600 };
    expect(judgeDeviceTime(T + 8 * 3600_000, T, w)).toBe('clock_skew');
    expect(judgeDeviceTime(T - 72 * 3600_000, T, w)).toBe('late');
    expect(judgeDeviceTime(T + 25_000, T, w)).toBeNull();
    expect(ruleTime(T + 8 * 3600_000, T, 'clock_skew')).toBe(T);
    expect(ruleTime(T - 1000, T, 'late')).toBe(T - 1000);
  });
});

describe('tolerant payloads, strict storage', () => {
  it('stores booleans as 0/1 and skips a non-numeric metric with its own reason', () => {
    const r = decodeTelemetry({ ts: T, metrics: { smoke: false, battery_low: true, battery: 23, mode: 'eco' } });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value[0].metrics).toEqual({ smoke: 0, battery_low: 1, battery: 23 });
      expect(r.value[0].skipped).toEqual(['/metrics/mode: a string is not a number or boolean']);
    }
  });

  it('refuses a reading only when nothing usable remains', () => {
    const r = decodeTelemetry({ ts: T, metrics: { mode: 'eco', raw: [1] } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail).toContain('/metrics/mode');
    expect(decodeTelemetry({ ts: T, metrics: {} }).ok).toBe(true); // a heartbeat reading
  });

  it('accepts vendor event type names', () => {
    expect(decodeEvent({ ts: T, type: 'fireDetection' }).ok).toBe(true);
    expect(decodeEvent({ ts: T, type: 'CrossLineDetection' }).ok).toBe(true);
    expect(decodeEvent({ ts: T, type: '1bad' }).ok).toBe(false);
  });
});

describe('Frigate', () => {
  const obj = {
    id: '1795954540.731552-p2n7wd',
    camera: 'gate',
    label: 'car',
    start_time: 1795954540.731552,
    top_score: 0.9,
    entered_zones: ['lane'],
    current_zones: [],
    has_snapshot: true,
    has_clip: false,
    attributes: { license_plate: 0.8 },
    recognized_license_plate: '津A12345',
  };
  it('keeps sub_label in both forms, plates, zones, attributes and snapshot/clip flags', () => {
    const a = decodeFrigate({ type: 'new', after: { ...obj, sub_label: 'bob' } });
    const b = decodeFrigate({ type: 'update', after: { ...obj, sub_label: ['bob', 0.93] } });
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.value.subLabel).toBe('bob');
      expect(b.value).toMatchObject({ subLabel: 'bob', subLabelScore: 0.93, plate: '津A12345' });
      expect(b.value.enteredZones).toEqual(['lane']);
      expect(b.value.attributes).toEqual({ license_plate: 0.8 });
      expect(b.value.hasSnapshot).toBe(true);
      expect(b.value.hasClip).toBe(false);
    }
  });

  it('reads reviews, stats and topics under a per-NVR prefix', () => {
    const r = decodeFrigateReview({
      type: 'new',
      after: { id: 'r1', camera: 'gate', severity: 'alert', data: { detections: ['a', 'b'] } },
    });
    expect(r).toMatchObject({ ok: true, value: { reviewId: 'r1', severity: 'alert', detections: ['a', 'b'] } });
    const s = decodeFrigateStats({
      cpu_usages: { 'frigate.full_system': { cpu: '7.0' } },
      detectors: { cpu1: { inference_speed: 91.2 } },
      gate: { camera_fps: 5, detection_fps: 1, process_fps: 5 },
      service: { uptime: 5, version: '0.13.2' },
    });
    expect(s).toMatchObject({ ok: true, value: { cpuPct: 7, detectors: { cpu1: { inferenceMs: 91.2 } } } });
    if (s.ok) expect(s.value.cameras.gate.cameraFps).toBe(5);
    expect(frigateTopic('nvr-a/events', 'nvr-a')).toBe('events');
    expect(frigateTopic('frigate/front_door/person', 'frigate')).toBe('other');
    expect(frigateTopic('frigate/events', 'nvr-a')).toBeNull();
    expect(frigateTopic('frigatex/events', 'frigate')).toBeNull();
  });
});
