/**
 * Cameras' own alarm pushes (issue 12 §5): `POST /api/intake/isapi/{cameraId}` and
 * `POST /api/intake/dahua/{cameraId}`. Most cameras on Chinese poles are Hikvision or Dahua and push alarms
 * over HTTP instead of MQTT:
 *
 * - Hikvision ISAPI "alarm host" pushes (ISAPI Event chapter, `EventNotificationAlert`, namespace
 *   http://www.hikvision.com/ver20/XMLSchema): the XML alone (`application/xml`), or `multipart/form-data`
 *   with the XML part and a JPEG picture part. `eventState` inactive (e.g. `videoloss` inactive, the
 *   keep-alive) is a sign of life, not an alarm.
 * - Dahua event push: JSON `{"Code", "Action", "Index", "Data"}` (one or `{"Events": [...]}`), or the
 *   eventManager text form `Code=FireWarning;action=Start;index=0;data={…}`. `Action` Stop is the end of an
 *   alarm already taken: acknowledged, not stored.
 *
 * Authentication: HTTP Basic with the device's id and secret (the MQTT credential). Hikvision cameras send
 * Basic to an alarm host when its user and password are set; Digest is not offered (we would have to keep
 * plain secrets to verify it). `{cameraId}` is the camera, or a gateway (NVR) whose children are matched by
 * the push's ipAddress and channelID where they are registered.
 *
 * Vendor event types go through the admin-extensible table (event-types.ts); the event is stored like an
 * MQTT event (device time and receipt, duplicates once) and handed to the same rules; the picture becomes
 * the case's evidence once the rules put the event in a case.
 */
import { XMLParser } from 'fast-xml-parser';
import { DomainError } from '../../core/errors.ts';
import { mapVendorType } from '../../core/rules/vendor-types.ts';
import { judgeDeviceTime, parseDeviceTime, DEFAULT_TIME_WINDOW, type TimeWindow } from '../../core/schemas/index.ts';
import type { Db } from '../store/db.ts';
import type { Logger } from '../log.ts';
import { devicesByAddress, getDevice, type DeviceRow } from '../store/devices.ts';
import { touchLastSeen } from '../store/ingest.ts';
import { eventKey, insertEvents, type EventRow } from '../consumer/writer.ts';
import type { CommittedEventRow } from '../consumer/index.ts';
import type { EventTypeTable } from './event-types.ts';

/** Largest accepted push (XML + picture), bytes. */
export const MAX_PUSH_BYTES = 8 * 1024 * 1024;

export type Vendor = 'isapi' | 'dahua';

/** One alarm as the vendor said it, before mapping. */
export interface VendorAlarm {
  vendorType: string;
  /** false: the alarm ended (Dahua Stop) or a keep-alive (ISAPI inactive) — not stored. */
  active: boolean;
  time: string | number | null;
  ipAddress: string | null;
  channel: number | null;
  attrs: Record<string, unknown>;
}

export interface PushPart {
  /** Text of an XML/JSON part, or bytes of a picture. */
  text?: string;
  bytes?: Buffer;
  mime: string;
}

export interface IntakeDeps {
  db: Db;
  grids: { join(lng: number, lat: number): { grid: string | null } };
  log: Logger;
  eventTypes: EventTypeTable;
  checkCredentials(id: string, secret: string): Promise<{ id: string; kind: string } | null>;
  /** The rules runner's input (stored facts only). */
  onEvents(rows: CommittedEventRow[]): void;
  timeZone: string;
  timeWindow?: TimeWindow;
  now?: () => number;
}

export interface IntakeResult {
  stored: number;
  duplicates: number;
  ignored: number;
  events: { id: number | null; type: string; device: string; occurredAt: string; receivedAt: string }[];
}

const xml = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: true,
  trimValues: true,
  processEntities: false,
});

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const int = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? n : null;
};

/** Every scalar leaf named `key` anywhere under `v` (ISAPI nests detail per region/target). */
function findLeaf(v: unknown, key: string, depth = 0): unknown {
  if (!v || typeof v !== 'object' || depth > 8) return undefined;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === key && (typeof x === 'number' || typeof x === 'string')) return x;
    const r = findLeaf(x, key, depth + 1);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** Hikvision `EventNotificationAlert` XML → one alarm. */
export function parseIsapi(text: string): VendorAlarm {
  let doc: Record<string, unknown>;
  try {
    doc = xml.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new DomainError('bad_request', `not well-formed XML: ${(e as Error).message.slice(0, 200)}`);
  }
  const a = doc.EventNotificationAlert as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object')
    throw new DomainError('validation_failed', 'the XML is not an ISAPI EventNotificationAlert');
  const eventType = str(a.eventType);
  if (!eventType || !/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/.test(eventType))
    throw new DomainError('validation_failed', 'EventNotificationAlert has no valid eventType');
  const attrs: Record<string, unknown> = {};
  for (const k of ['eventDescription', 'channelName', 'macAddress', 'activePostCount'])
    if (a[k] !== undefined && a[k] !== '') attrs[k] = a[k];
  const t = findLeaf(a, 'fireMaxTemperature') ?? findLeaf(a, 'maxTemperature');
  if (t !== undefined && Number.isFinite(Number(t))) {
    const unit = String(findLeaf(a, 'temperatureUnit') ?? 'celsius').toLowerCase();
    const v = Number(t);
    attrs.maxTemperatureC = unit.startsWith('fahrenheit') ? Math.round((((v - 32) * 5) / 9) * 10) / 10 : v;
  }
  const region = findLeaf(a, 'regionID');
  if (region !== undefined) attrs.regionId = region;
  return {
    vendorType: eventType,
    active: (str(a.eventState) ?? 'active').toLowerCase() !== 'inactive',
    time: str(a.dateTime),
    ipAddress: str(a.ipAddress) ?? str(a.ipv6Address),
    channel: int(a.channelID) ?? int(a.dynChannelID),
    attrs,
  };
}

/** Dahua event push (JSON or the eventManager text form) → its alarms. */
export function parseDahua(text: string): VendorAlarm[] {
  const t = text.trim();
  let items: Record<string, unknown>[];
  if (t.startsWith('{') || t.startsWith('[')) {
    let j: unknown;
    try {
      j = JSON.parse(t);
    } catch (e) {
      throw new DomainError('bad_request', `not valid JSON: ${(e as Error).message.slice(0, 200)}`);
    }
    const o = j as Record<string, unknown>;
    items = Array.isArray(j)
      ? (j as Record<string, unknown>[])
      : Array.isArray(o.Events)
        ? (o.Events as Record<string, unknown>[])
        : [o];
  } else {
    // Code=CrossLineDetection;action=Start;index=0;data={...}
    items = t
      .split(/\r?\n/)
      .filter((l) => l.includes('Code='))
      .map((l) => {
        const o: Record<string, unknown> = {};
        const di = l.indexOf(';data=');
        const head = di >= 0 ? l.slice(0, di) : l;
        for (const kv of head.split(';')) {
          const i = kv.indexOf('=');
          if (i > 0) o[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
        }
        if (di >= 0)
          try {
            o.data = JSON.parse(l.slice(di + 6));
          } catch {
            /* a data part that is not JSON is left out */
          }
        return o;
      });
  }
  if (!items.length || items.length > 100)
    throw new DomainError('validation_failed', 'a Dahua push holds 1-100 events with a Code');
  return items.map((it) => {
    const code = str(it.Code ?? it.code);
    if (!code || !/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/.test(code))
      throw new DomainError('validation_failed', 'a Dahua event has no valid Code');
    const data = ((it.Data ?? it.data) as Record<string, unknown> | undefined) ?? {};
    const action = (str(it.Action ?? it.action) ?? 'Start').toLowerCase();
    const utc = typeof data.UTC === 'number' ? data.UTC : null;
    const attrs: Record<string, unknown> = {};
    for (const k of ['Name', 'RuleName', 'Object', 'Class', 'Direction'])
      if (data[k] !== undefined && typeof data[k] !== 'object') attrs[k.charAt(0).toLowerCase() + k.slice(1)] = data[k];
    return {
      vendorType: code,
      active: action !== 'stop',
      time: utc ?? str(data.LocaleTime) ?? str(it.Time ?? it.time),
      ipAddress: str(it.IP ?? it.ip ?? data.IP),
      channel: int(it.Index ?? it.index ?? it.Channel),
      attrs,
    };
  });
}

/** Credentials of an HTTP Basic `Authorization` header (RFC 7617), or null. */
export function basicCredentials(header: string | null): { id: string; secret: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const s = Buffer.from(m[1], 'base64').toString('utf8');
  const i = s.indexOf(':');
  return i > 0 ? { id: s.slice(0, i), secret: s.slice(i + 1) } : null;
}

interface PendingPicture {
  bytes: Buffer;
  mime: string;
  source: string;
  at: number;
}

export class AlarmIntake {
  /** Pictures of stored events, until the rules put the event in a case (evidence) or 10 minutes pass. */
  private readonly pictures = new Map<number, PendingPicture>();
  private readonly now: () => number;

  constructor(private readonly deps: IntakeDeps) {
    this.now = deps.now ?? (() => Date.now());
  }

  /** The picture a push brought for a stored event (taken once). */
  takePicture(eventId: number): PendingPicture | null {
    const p = this.pictures.get(eventId);
    if (!p) return null;
    this.pictures.delete(eventId);
    return p;
  }

  /**
   * Authenticate and take one push. Throws DomainError: unauthorized (401), not_found (the path names no
   * such device), validation_failed / bad_request (the payload), unsupported_media.
   */
  async receive(
    vendor: Vendor,
    pathId: string,
    authorization: string | null,
    parts: PushPart[],
  ): Promise<IntakeResult> {
    const cred = basicCredentials(authorization);
    if (!cred || cred.id !== pathId)
      throw new DomainError(
        'unauthorized',
        `HTTP Basic authentication as device ${pathId} (its id and secret) is required`,
      );
    const principal = await this.deps.checkCredentials(cred.id, cred.secret);
    if (!principal) throw new DomainError('unauthorized', 'wrong device id or secret');
    const self = await getDevice(this.deps.db, principal.id);
    if (!self) throw new DomainError('not_found', `no device ${pathId}`);
    if (self.kind !== 'camera' && self.kind !== 'gateway')
      throw new DomainError('forbidden', `${pathId} is a ${self.kind}: alarm pushes come from cameras or NVRs`);

    const doc = parts.find((p) => p.text !== undefined);
    if (!doc) throw new DomainError('validation_failed', `no ${vendor === 'isapi' ? 'XML' : 'event'} part in the push`);
    const alarms = vendor === 'isapi' ? [parseIsapi(doc.text!)] : parseDahua(doc.text!);
    const picture = parts.find((p) => p.bytes && /^image\/(jpeg|png)$/.test(p.mime));

    const received = this.now();
    const out: IntakeResult = { stored: 0, duplicates: 0, ignored: 0, events: [] };
    const rows: (EventRow & { deviceKind: string })[] = [];
    const heard = new Map<string, number>();
    for (const a of alarms) {
      const cam = await this.camera(self, a);
      heard.set(cam.id, received);
      const mapped = mapVendorType(a.vendorType, this.deps.eventTypes.table());
      if (!a.active || mapped.type === null) {
        out.ignored++;
        continue;
      }
      let occurred = received;
      if (a.time !== null) {
        const t = parseDeviceTime(a.time, cam.tz ?? this.deps.timeZone);
        if (!t.ok) throw new DomainError('validation_failed', `dateTime: ${t.detail}`);
        occurred = t.ms;
      }
      const flag = judgeDeviceTime(occurred, received, this.deps.timeWindow ?? DEFAULT_TIME_WINDOW);
      const attrs: Record<string, unknown> = {
        ...a.attrs,
        vendor,
        vendorType: a.vendorType,
        ...(a.channel !== null ? { channel: a.channel } : {}),
        ...(mapped.label ? { label: mapped.label } : {}),
        ...(picture ? { hasSnapshot: true } : {}),
      };
      const loc = cam.location;
      rows.push({
        deviceId: cam.id,
        seq: null,
        externalId: null,
        ts: new Date(occurred),
        receivedAt: new Date(received),
        timeFlag: flag,
        type: mapped.type,
        severity: null,
        lng: loc ? loc[0] : null,
        lat: loc ? loc[1] : null,
        grid: cam.grid ?? (loc ? this.deps.grids.join(loc[0], loc[1]).grid : null),
        attrs,
        deviceKind: cam.kind,
      });
    }
    const stored = rows.length ? await insertEvents(this.deps.db, rows) : new Map<string, number>();
    await touchLastSeen(this.deps.db, heard).catch((e) => this.deps.log.warn({ err: e }, 'last-seen not updated'));
    const committed: CommittedEventRow[] = [];
    for (const r of rows) {
      const id = stored.get(eventKey(r.deviceId, r.seq, r.ts.getTime(), r.type)) ?? null;
      out.events.push({
        id,
        type: r.type,
        device: r.deviceId,
        occurredAt: r.ts.toISOString(),
        receivedAt: r.receivedAt.toISOString(),
      });
      if (id === null) {
        out.duplicates++;
        continue;
      }
      out.stored++;
      if (picture?.bytes)
        this.keepPicture(id, {
          bytes: picture.bytes,
          mime: picture.mime,
          source: `${vendor}:${r.deviceId}`,
          at: received,
        });
      committed.push({ ...r, eventId: id, fresh: true, caseId: null });
    }
    if (committed.length) this.deps.onEvents(committed);
    return out;
  }

  private keepPicture(id: number, p: PendingPicture): void {
    for (const [k, v] of this.pictures)
      if (this.now() - v.at > 600_000 || this.pictures.size > 200) this.pictures.delete(k);
    this.pictures.set(id, p);
  }

  /**
   * The camera a push is about: a registered camera at the push's ipAddress and channelID that is the
   * authenticated device, its child (an NVR's channel), or another channel of the same physical device;
   * otherwise the authenticated camera itself.
   */
  private async camera(self: DeviceRow, a: VendorAlarm): Promise<DeviceRow> {
    if (a.ipAddress) {
      const at = await devicesByAddress(this.deps.db, a.ipAddress, a.channel);
      const match = at.find(
        (d) =>
          d.kind === 'camera' &&
          (d.id === self.id || d.gateway === self.id || (self.ipAddress !== null && self.ipAddress === d.ipAddress)),
      );
      if (match) return match;
    }
    if (self.kind === 'camera') return self;
    throw new DomainError(
      'not_found',
      `no camera of ${self.id} is registered at ${a.ipAddress ?? '?'} channel ${a.channel ?? '?'} (register it with ipAddress and channelId)`,
    );
  }
}
