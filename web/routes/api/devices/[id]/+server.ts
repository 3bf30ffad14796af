import { json } from '@sveltejs/kit';
import { api, fail, requireUser, scopeOf } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../ingest/store/devices.ts';

export const GET = api(async (event) => {
  const u = requireUser(event);
  const d = await getDevice(getServices().db, event.params.id ?? '');
  const scope = scopeOf(u);
  if (!d || (scope && !(d.grid ?? '').startsWith(scope))) fail('not_found', `no device ${event.params.id}`);
  const { rtsp, ...rest } = d;
  return json({ ...rest, hasVideo: !!rtsp });
});
