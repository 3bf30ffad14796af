import { json } from '@sveltejs/kit';
import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { livenessOf } from '../../../../../core/rules/liveness.ts';
import { getDevice } from '../../../../../ingest/store/devices.ts';
import { deviceVisible } from '../../../../../ingest/auth/scope.ts';

export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const d = await getDevice(getServices().db, event.params.id ?? '');
  // Outside the read scope (ingest/auth/scope.ts) answers like an unknown id: existence is not revealed.
  if (!d || !(await deviceVisible(getServices().db, scope, d.id))) fail('not_found', `no device ${event.params.id}`);
  const { rtsp, ...rest } = d;
  return json({ ...rest, hasVideo: !!rtsp, liveness: livenessOf(d) });
});
