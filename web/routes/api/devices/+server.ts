import { json } from '@sveltejs/kit';
import { api, readJson, requireRole, requireUser, scopeOf, num } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { listDevices } from '../../../../ingest/store/devices.ts';
import { registerDevice } from '../../../../ingest/registry.ts';

/** The registry, confined to the user's grid scope. `kind`, `grid` (code prefix), `gateway`, `after`, `limit`. */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const p = event.url.searchParams;
  const scope = scopeOf(u);
  let prefix = p.get('grid') ?? scope ?? undefined;
  if (scope && prefix && !prefix.startsWith(scope)) prefix = scope; // never widen past the scope
  const devices = await listDevices(getServices().db, {
    kind: p.get('kind') ?? undefined,
    gridPrefix: prefix,
    gateway: p.get('gateway') ?? undefined,
    after: p.get('after') ?? undefined,
    limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 10000 }) ?? 10000,
  });
  // RTSP URLs may carry credentials: never sent to browsers.
  return json({ devices: devices.map(({ rtsp, ...d }) => ({ ...d, hasVideo: !!rtsp })) });
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
  return json({ ...rest, hasVideo: !!rtsp, secret }, { status: 201 });
});
