/**
 * Device registration, shared by `onegrid device add` and `POST /api/devices`: validates the input,
 * joins the fixed location to its grid, stores a scrypt hash of a fresh secret and returns the secret once.
 */
import { stripBidi } from '../core/text.ts';
import { DomainError } from '../core/errors.ts';
import type { Db } from './store/db.ts';
import { getDevice, insertDevices, setDeviceSecretHash, type DeviceRow } from './store/devices.ts';
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
  return {
    id: o.id as string,
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
  if (await getDevice(db, input.id)) throw new DomainError('conflict', `device ${input.id} already exists`);
  if (input.gateway) {
    const gw = await getDevice(db, input.gateway);
    if (!gw || gw.kind !== 'gateway') fail(`gateway ${input.gateway} is not a registered gateway`, 'gateway');
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
      intervalS: input.intervalS ?? 60,
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
