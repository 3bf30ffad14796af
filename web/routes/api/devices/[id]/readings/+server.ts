import { json } from '@sveltejs/kit';
import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../../ingest/store/devices.ts';
import { deviceVisible } from '../../../../../../ingest/auth/scope.ts';
import { readingSeries } from '../../../../../../ingest/store/readings.ts';

const BUCKETS: Record<string, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86400 };

/** Time-bucketed series of one metric: `metric`, `from`, `to` (ISO-8601 or epoch ms), `bucket` (1m 5m 15m 1h 1d). */
export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const s = getServices();
  const d = await getDevice(s.db, event.params.id ?? '');
  // Outside the read scope (ingest/auth/scope.ts) answers like an unknown id: existence is not revealed.
  if (!d || !(await deviceVisible(getServices().db, scope, d.id))) fail('not_found', `no device ${event.params.id}`);
  const p = event.url.searchParams;
  const metric = p.get('metric');
  if (!metric || !/^[A-Za-z0-9_.-]{1,64}$/.test(metric))
    fail('validation_failed', 'metric is required (a metric name)');
  const time = (v: string | null, dflt: number, name: string) => {
    if (!v) return new Date(dflt);
    const t = /^\d+$/.test(v) ? new Date(Number(v)) : new Date(v);
    if (Number.isNaN(t.getTime())) fail('validation_failed', `${name} must be ISO-8601 or epoch ms`);
    return t;
  };
  const to = time(p.get('to'), Date.now(), 'to');
  const from = time(p.get('from'), to.getTime() - 24 * 3600_000, 'from');
  if (from >= to) fail('validation_failed', 'from must be before to');
  const bucketName = p.get('bucket') ?? '5m';
  const bucketS = BUCKETS[bucketName];
  if (!bucketS) fail('validation_failed', `bucket must be one of ${Object.keys(BUCKETS).join(', ')}`);
  if ((to.getTime() - from.getTime()) / 1000 / bucketS > 5000)
    fail('validation_failed', 'too many buckets: widen bucket or narrow from/to');
  const points = await readingSeries(s.db, d.id, metric, from, to, bucketS);
  return json({ device: d.id, metric, bucket: bucketName, from: from.toISOString(), to: to.toISOString(), points });
});
