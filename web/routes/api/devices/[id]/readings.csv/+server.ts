import { stringify } from 'csv-stringify/sync';
import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { getDevice } from '../../../../../../ingest/store/devices.ts';
import { deviceVisible } from '../../../../../../ingest/auth/scope.ts';
import { rawReadings } from '../../../../../../ingest/store/readings.ts';

const MAX_ROWS = 100_000;

/**
 * The device's raw readings as CSV (RFC 4180, UTF-8 with a BOM so that spreadsheet programs read Chinese
 * right): columns `ts` (device time, ISO-8601 UTC), `received_at`, `seq`, then one column per metric.
 * `from`, `to`: ISO-8601 or epoch ms (default the last 24 h); at most 100 000 rows, oldest first.
 * 400 validation_failed on a bad time; 404 for a device outside the user's read scope.
 */
export const GET = api(async (event) => {
  const s = getServices();
  const d = await getDevice(s.db, event.params.id ?? '');
  if (!d || !(await deviceVisible(s.db, scopeFor(event), d.id))) fail('not_found', `no device ${event.params.id}`);
  const p = event.url.searchParams;
  const time = (v: string | null, dflt: number, name: string) => {
    if (!v) return new Date(dflt);
    const t = /^\d+$/.test(v) ? new Date(Number(v)) : new Date(v);
    if (Number.isNaN(t.getTime())) fail('validation_failed', `${name} must be ISO-8601 or epoch ms`, { field: name });
    return t;
  };
  const to = time(p.get('to'), Date.now(), 'to');
  const from = time(p.get('from'), to.getTime() - 24 * 3600_000, 'from');
  if (from >= to) fail('validation_failed', 'from must be before to', { field: 'from' });
  const rows = await rawReadings(s.db, d.id, from, to, MAX_ROWS);
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
  const csv = stringify([
    ['ts', 'received_at', 'seq', ...metrics],
    ...rows.map((r) => [r.ts, r.receivedAt, r.seq ?? '', ...metrics.map((m) => r.metrics[m] ?? '')]),
  ]);
  const name = `${d.id}-${from.toISOString().slice(0, 10)}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
  return new Response('\uFEFF' + csv, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'private, no-store',
    },
  });
});
