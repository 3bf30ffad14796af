import { json } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';

export const GET = () => {
  const s = getServices();
  return json(
    {
      ok: s.ready,
      db: s.db.kind,
      // Each optional extension's decision and its reason, e.g. "timescale": "available, not preloaded".
      timescale: s.dbFeatures.extensions.timescaledb?.state ?? 'not applicable',
      postgis: s.dbFeatures.extensions.postgis?.state ?? 'not applicable',
      extensions: s.dbFeatures.extensions,
      broker: s.config.mqttUrl ? 'external' : 'embedded',
      grids: s.grids.count,
      gridVersion: s.grids.version,
      demo: s.demo,
      uptimeS: Math.round((Date.now() - s.startedAt) / 1000),
    },
    { status: s.ready ? 200 : 503 },
  );
};
