import { json } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';

export const GET = () => {
  const s = getServices();
  return json(
    {
      ok: s.ready,
      db: s.db.kind,
      timescale: s.dbFeatures.timescale,
      broker: s.config.mqttUrl ? 'external' : 'embedded',
      grids: s.grids.count,
      gridVersion: s.grids.version,
      demo: s.demo,
      uptimeS: Math.round((Date.now() - s.startedAt) / 1000),
    },
    { status: s.ready ? 200 : 503 },
  );
};
