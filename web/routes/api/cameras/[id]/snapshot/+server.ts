import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../../ingest/store/devices.ts';
import { deviceVisible } from '../../../../../../ingest/auth/scope.ts';

/**
 * A current JPEG from the camera (decoded from the live stream when it runs, else straight from RTSP).
 * Cameras outside the read scope answer 404; failures answer 422 without the camera's address.
 */
export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const s = getServices();
  const d = await getDevice(s.db, event.params.id ?? '');
  if (!d || d.kind !== 'camera' || !(await deviceVisible(s.db, scope, d.id)))
    fail('not_found', `no camera ${event.params.id}`);
  const jpeg = await s.video.snapshot(d.id);
  return new Response(new Uint8Array(jpeg), { headers: { 'content-type': 'image/jpeg', 'cache-control': 'no-store' } });
});
