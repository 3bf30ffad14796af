import { api, fail, requireUser, scopeOf } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../../ingest/store/devices.ts';

/** A current JPEG from the camera (decoded from the live stream when it runs, else straight from RTSP). */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const s = getServices();
  const d = await getDevice(s.db, event.params.id ?? '');
  const scope = scopeOf(u);
  if (!d || d.kind !== 'camera' || (scope && !(d.grid ?? '').startsWith(scope)))
    fail('not_found', `no camera ${event.params.id}`);
  const jpeg = await s.video.snapshot(d.id);
  return new Response(new Uint8Array(jpeg), { headers: { 'content-type': 'image/jpeg', 'cache-control': 'no-store' } });
});
