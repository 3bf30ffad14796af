/**
 * Device registration, shared by `onegrid device add` and `POST /api/devices`: validates the input,
 * joins the fixed location to its grid, stores a scrypt hash of a fresh secret and returns the secret once.
 */
import { stripBidi } from '../core/text.ts';
import { DomainError } from '../core/errors.ts';
import type { Db } from './store/db.ts';
import { frigateCameraOf, getDevice, insertDevices, setDeviceSecretHash, type DeviceRow } from './store/devices.ts';
import { isTimeZone } from '../core/schemas/index.ts';
import { hashSecret, newSecret } from './auth/secrets.ts';

export const DEVICE_KINDS = ['camera', 'smoke', 'heat', 'gas', 'water_level', 'manhole', 'sensor', 'gateway'] as const;
export const CAMERA_SOURCES = ['eagle-eye', 'skynet', 'community'] as const;

export interface DeviceInput {
  id: string;
  kind: string;
  name?: string;
  location: [number, number];
  gateway?: string;
  rtsp?: string;
  source?: string;
  intervalS?: number;
  /** IANA time zone of the device's clock (local times without an offset are read in it). */
  tz?: string;
  /** Camera under a Frigate NVR: its Frigate camera name (default: its id). Unique per gateway. */
  frigateName?: string;
  /** Gateway that is a Frigate NVR: its MQTT topic_prefix (default `frigate`). */
  topicPrefix?: string;
  /** Gateway that is a Frigate NVR: its HTTP API address (http://host:5000), for event snapshots. */
  apiUrl?: string;
  /** Camera pushing alarms over HTTP (ISAPI/Dahua): its IP address and channel, as its pushes name them. */
  ipAddress?: string;
  channelId?: number;
}

export interface Joiner {
  join(lng: number, lat: number): { grid: string | null };
}

function fail(message: string, field: string): never {
  throw new DomainError('validation_failed', message, { field });
}

export function validateDeviceInput(x: unknown): DeviceInput {
  if (!x || typeof x !== 'object' || Array.isArray(x)) fail('body must be a JSON object', '');
  const o = x as Record<string, unknown>;
  if (typeof o.id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.id))
    fail(
      'id must be 1-64 characters of letters, digits, ".", "_" or "-" (it is the MQTT username and topic level)',
      'id',
    );
  if (typeof o.kind !== 'string' || !(DEVICE_KINDS as readonly string[]).includes(o.kind))
    fail(`kind must be one of ${DEVICE_KINDS.join(', ')}`, 'kind');
  const loc = o.location;
  if (
    !Array.isArray(loc) ||
    loc.length !== 2 ||
    typeof loc[0] !== 'number' ||
    typeof loc[1] !== 'number' ||
    !Number.isFinite(loc[0]) ||
    !Number.isFinite(loc[1]) ||
    Math.abs(loc[0]) > 180 ||
    Math.abs(loc[1]) > 90
  )
    fail('location must be [lng, lat] (WGS-84) within [-180, 180] × [-90, 90]', 'location');
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length > 200))
    fail('name must be a string', 'name');
  if (o.gateway !== undefined && typeof o.gateway !== 'string') fail('gateway must be a device id', 'gateway');
  if (o.rtsp !== undefined) {
    if (typeof o.rtsp !== 'string' || !/^rtsps?:\/\//.test(o.rtsp)) fail('rtsp must be an rtsp:// URL', 'rtsp');
    if (o.kind !== 'camera') fail('rtsp is for cameras only', 'rtsp');
  }
  if (
    o.source !== undefined &&
    (o.kind !== 'camera' || !(CAMERA_SOURCES as readonly string[]).includes(o.source as string))
  )
    fail(`source is for cameras: one of ${CAMERA_SOURCES.join(', ')}`, 'source');
  if (
    o.intervalS !== undefined &&
    (!Number.isInteger(o.intervalS) || (o.intervalS as number) < 1 || (o.intervalS as number) > 86400)
  )
    fail('intervalS must be an integer number of seconds, 1-86400', 'intervalS');
  if (o.tz !== undefined && (typeof o.tz !== 'string' || o.tz.length > 64 || !isTimeZone(o.tz)))
    fail('tz must be an IANA time zone, e.g. Asia/Shanghai', 'tz');
  if (o.frigateName !== undefined) {
    if (typeof o.frigateName !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(o.frigateName))
      fail('frigateName must be a Frigate camera name (letters, digits, ".", "_", "-")', 'frigateName');
    if (o.kind !== 'camera' || o.gateway === undefined)
      fail('frigateName is for cameras registered under their gateway (the Frigate NVR)', 'frigateName');
  }
  if (o.topicPrefix !== undefined) {
    if (
      typeof o.topicPrefix !== 'string' ||
      !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/.test(o.topicPrefix) ||
      o.topicPrefix === 'dev' ||
      o.topicPrefix.startsWith('dev/') ||
      o.topicPrefix.endsWith('/')
    )
      fail('topicPrefix must be a Frigate topic_prefix such as "frigate" (not "dev", no wildcards)', 'topicPrefix');
    if (o.kind !== 'gateway') fail('topicPrefix is for gateways (Frigate NVRs)', 'topicPrefix');
  }
  if (o.apiUrl !== undefined) {
    if (typeof o.apiUrl !== 'string' || !/^https?:\/\/[^\s]{1,200}$/.test(o.apiUrl))
      fail('apiUrl must be an http:// or https:// URL (the Frigate API, e.g. http://10.0.0.5:5000)', 'apiUrl');
    if (o.kind !== 'gateway') fail('apiUrl is for gateways (Frigate NVRs)', 'apiUrl');
  }
  if (o.ipAddress !== undefined && (typeof o.ipAddress !== 'string' || !/^[0-9A-Fa-f:.]{2,45}$/.test(o.ipAddress)))
    fail('ipAddress must be an IPv4 or IPv6 address', 'ipAddress');
  if (
    o.channelId !== undefined &&
    (!Number.isInteger(o.channelId) || (o.channelId as number) < 0 || (o.channelId as number) > 4096)
  )
    fail('channelId must be an integer 0-4096', 'channelId');
  return {
    id: o.id as string,
    tz: o.tz as string | undefined,
    frigateName: o.frigateName as string | undefined,
    topicPrefix: o.topicPrefix as string | undefined,
    apiUrl: o.apiUrl as string | undefined,
    ipAddress: o.ipAddress as string | undefined,
    channelId: o.channelId as number | undefined,
    kind: o.kind as string,
    name: o.name as string | undefined,
    location: [loc[0] as number, loc[1] as number],
    gateway: o.gateway as string | undefined,
    rtsp: o.rtsp as string | undefined,
    source: o.source as string | undefined,
    intervalS: o.intervalS as number | undefined,
  };
}

export async function registerDevice(
  db: Db,
  joiner: Joiner,
  raw: unknown,
): Promise<{ device: DeviceRow; secret: string }> {
  const input = validateDeviceInput(raw);
  if (await getDevice(db, input.id)) {
    // Two Frigate NVRs may both call a camera front_door: ids are global, Frigate names are per NVR.
    const hint =
      input.kind === 'camera' && input.gateway
        ? `; register this camera under another id with "frigateName": "${input.frigateName ?? input.id}" (Frigate names are per gateway)`
        : '';
    throw new DomainError('conflict', `device ${input.id} already exists${hint}`);
  }
  if (input.gateway) {
    const gw = await getDevice(db, input.gateway);
    if (!gw || gw.kind !== 'gateway') fail(`gateway ${input.gateway} is not a registered gateway`, 'gateway');
    if (input.kind === 'camera' && (await frigateCameraOf(db, input.gateway, input.frigateName ?? input.id)))
      throw new DomainError(
        'conflict',
        `gateway ${input.gateway} already has a camera named ${input.frigateName ?? input.id}`,
      );
  }
  const { grid } = joiner.join(input.location[0], input.location[1]);
  const secret = newSecret();
  await insertDevices(db, [
    {
      id: input.id,
      kind: input.kind,
      name: input.name === undefined ? null : stripBidi(input.name),
      source: input.source ?? null,
      gateway: input.gateway ?? null,
      rtsp: input.rtsp ?? null,
      intervalS: input.intervalS,
      tz: input.tz ?? null,
      frigateName: input.frigateName ?? null,
      topicPrefix: input.topicPrefix ?? null,
      apiUrl: input.apiUrl ?? null,
      ipAddress: input.ipAddress ?? null,
      channelId: input.channelId ?? null,
      location: input.location,
      grid,
      secretHash: await hashSecret(secret),
    },
  ]);
  return { device: (await getDevice(db, input.id))!, secret };
}

export async function rotateDeviceSecret(db: Db, id: string): Promise<string> {
  const secret = newSecret();
  if (!(await setDeviceSecretHash(db, id, await hashSecret(secret))))
    throw new DomainError('not_found', `no device ${id}`);
  return secret;
}
