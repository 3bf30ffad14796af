import { json } from '@sveltejs/kit';
import { api, readJson, requireRole, scopeFor, num } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { livenessOf } from '../../../../core/rules/liveness.ts';
import { deviceCondition, gridFilter, narrowGrid, queryFilter } from '../../../../ingest/auth/scope.ts';
import { listDevices } from '../../../../ingest/store/devices.ts';
import { registerDevice } from '../../../../ingest/registry.ts';

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The registry, confined to the user's read scope (ingest/auth/scope.ts). Filters: `kind`, `grid` (code
 * prefix, narrowed to the scope), `gateway`, `after` (id, for the next page), `limit`. Blank filters are
 * absent; malformed ones answer 400 `validation_failed`.
 */
export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const p = event.url.searchParams;
  const prefix = narrowGrid(scope, gridFilter(p));
  if (prefix === false || scope.none) return json({ devices: [] });
  const devices = await listDevices(getServices().db, {
    kind: queryFilter(p, 'kind', /^[a-z_]{1,32}$/, 'a device kind') ?? undefined,
    gridPrefix: prefix ?? undefined,
    gateway: queryFilter(p, 'gateway', ID, 'a device id') ?? undefined,
    after: queryFilter(p, 'after', ID, 'a device id') ?? undefined,
    limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 10000 }) ?? 10000,
    scope: deviceCondition(scope, 6),
  });
  // RTSP URLs may carry credentials: never sent to browsers.
  return json({ devices: devices.map(({ rtsp, ...d }) => ({ ...d, hasVideo: !!rtsp, liveness: livenessOf(d) })) });
});

/** Register a device; the response carries its MQTT secret, once. */
export const POST = api(async (event) => {
  requireRole(event);
  const s = getServices();
  const { device, secret } = await registerDevice(s.db, s.grids, await readJson(event));
  s.ingest.invalidate(device.id);
  // A new camera joins the linked-camera index at once (cases raised nearby link it).
  if (device.kind === 'camera')
    await (s.ext.cases as { refreshCameras?: () => Promise<unknown> } | undefined)?.refreshCameras?.();
  const { rtsp, ...rest } = device;
  return json({ ...rest, hasVideo: !!rtsp, liveness: livenessOf(device), secret }, { status: 201 });
});
