import { json } from '@sveltejs/kit';
import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../../ingest/store/devices.ts';
import { deviceVisible } from '../../../../../../ingest/auth/scope.ts';
import { readingMetrics } from '../../../../../../ingest/store/readings.ts';

/**
 * The metric names the device has reported (from its latest 500 readings, most frequent first):
 * `{device, metrics: ["ch4_pct_lel", …]}`. 404 for a device outside the user's read scope.
 */
export const GET = api(async (event) => {
  const s = getServices();
  const d = await getDevice(s.db, event.params.id ?? '');
  if (!d || !(await deviceVisible(s.db, scopeFor(event), d.id))) fail('not_found', `no device ${event.params.id}`);
  return json({ device: d.id, metrics: await readingMetrics(s.db, d.id) });
});
