import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { basicCredentials, parseDahua, parseIsapi } from './alarm-push.ts';
import { EventTypeTable } from './event-types.ts';
import { openPglite } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { mapVendorType } from '../../core/rules/vendor-types.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../../shared/field-cases/devices/i_isapi_thermal_fire.xml');

describe('ISAPI EventNotificationAlert', () => {
  it.skipIf(!existsSync(FIXTURE))('reads the field case: thermal fireDetection with its temperature', () => {
    const a = parseIsapi(readFileSync(FIXTURE, 'utf8'));
    expect(a).toMatchObject({
      vendorType: 'fireDetection',
      active: true,
      time: '2026-11-29T20:15:40+08:00',
      ipAddress: '192.0.2.57',
      channel: 2,
    });
    expect(a.attrs.maxTemperatureC).toBe(236);
  });
  it('an inactive state is a keep-alive; a document that is not an alert is refused', () => {
    const x = `<EventNotificationAlert><eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>`;
    expect(parseIsapi(x).active).toBe(false);
    expect(() => parseIsapi('<Other/>')).toThrow(/EventNotificationAlert/);
    expect(() => parseIsapi('<EventNotificationAlert><eventType>1x</eventType></EventNotificationAlert>')).toThrow();
  });
});

describe('Dahua event push', () => {
  it('reads JSON (one or Events[]) and the eventManager text form', () => {
    expect(
      parseDahua('{"Code":"CrossLineDetection","Action":"Start","Index":1,"Data":{"UTC":1795954540,"Name":"gate"}}'),
    ).toEqual([
      {
        vendorType: 'CrossLineDetection',
        active: true,
        time: 1795954540,
        ipAddress: null,
        channel: 1,
        attrs: { name: 'gate' },
      },
    ]);
    const t = parseDahua('Code=FireWarning;action=Stop;index=0;data={"LocaleTime":"2026-11-29 20:15:40"}');
    expect(t[0]).toMatchObject({ vendorType: 'FireWarning', active: false, time: '2026-11-29 20:15:40', channel: 0 });
    expect(parseDahua('{"Events":[{"Code":"VideoBlind"},{"Code":"SmokeAlarm"}]}').map((x) => x.vendorType)).toEqual([
      'VideoBlind',
      'SmokeAlarm',
    ]);
    expect(() => parseDahua('{"nothing":1}')).toThrow(/Code/);
  });
  it('HTTP Basic credentials (RFC 7617)', () => {
    expect(basicCredentials('Basic ' + Buffer.from('cam-1:s3:cr3t').toString('base64'))).toEqual({
      id: 'cam-1',
      secret: 's3:cr3t',
    });
    expect(basicCredentials('Digest x')).toBeNull();
    expect(basicCredentials(null)).toBeNull();
  });
});

describe('the vendor event-type table an admin extends', () => {
  it('is kept in the database, merged over the defaults, and validated', async () => {
    const db = await openPglite(null);
    await migrate(db);
    const t = new EventTypeTable(db);
    await t.load();
    expect(mapVendorType('audioException', t.table()).mapped).toBe(false);
    await t.replace({
      audioException: { type: 'ai_detection', label: 'scream' },
      fireDetection: { type: 'heat_alarm' },
    });
    const again = new EventTypeTable(db);
    await again.load();
    expect(mapVendorType('audioexception', again.table())).toMatchObject({ type: 'ai_detection', label: 'scream' });
    expect(mapVendorType('fireDetection', again.table()).type).toBe('heat_alarm');
    await expect(t.replace({ x: { type: 'Not Snake' } })).rejects.toThrow(/snake_case/);
    await db.close();
  });
});
