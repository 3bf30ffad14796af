import { describe, expect, it } from 'vitest';
import { mapVendorType, snakeCase, DEFAULT_VENDOR_TYPES } from './vendor-types.ts';
import { livenessOf } from './liveness.ts';

describe('vendor event types', () => {
  it('maps Hikvision and Dahua names case-insensitively; unknown names keep a snake_case form', () => {
    expect(mapVendorType('fireDetection')).toMatchObject({ type: 'fire_alarm', mapped: true });
    expect(mapVendorType('linedetection')).toMatchObject({ type: 'ai_detection', label: 'line_crossing' });
    expect(mapVendorType('CrossRegionDetection')).toMatchObject({ type: 'ai_detection', label: 'intrusion' });
    expect(mapVendorType('someNewAlarm')).toEqual({ type: 'some_new_alarm', label: null, mapped: false });
    expect(mapVendorType('smoke_alarm').type).toBe('smoke_alarm');
    expect(snakeCase('HTTPAlarmPush')).toBe('http_alarm_push');
  });
  it('an admin table extends and overrides the defaults', () => {
    const t = { ...DEFAULT_VENDOR_TYPES, audioexception: { type: 'ai_detection', label: 'scream' } };
    expect(mapVendorType('audioException', t)).toMatchObject({ type: 'ai_detection', label: 'scream' });
  });
});

describe('liveness per kind', () => {
  it('cameras none, NB-IoT detectors a day, children by their gateway, a registered interval wins', () => {
    expect(livenessOf({ kind: 'camera', intervalS: 60, intervalSet: false, gateway: null }).intervalS).toBe(0);
    expect(livenessOf({ kind: 'smoke', intervalS: 60, intervalSet: false, gateway: null }).intervalS).toBe(86_400);
    expect(livenessOf({ kind: 'smoke', intervalS: 60, intervalSet: false, gateway: 'gw' })).toEqual({
      intervalS: 0,
      source: 'gateway',
      gateway: 'gw',
    });
    expect(livenessOf({ kind: 'camera', intervalS: 120, intervalSet: true, gateway: 'gw' })).toEqual({
      intervalS: 120,
      source: 'device',
      gateway: null,
    });
  });
});
