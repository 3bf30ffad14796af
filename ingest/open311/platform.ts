/**
 * The Open311 API wired to the running platform: the case service (`services.ext.cases`), the database
 * (keys, tokens, department names) and the published grids (jurisdictions, place names).
 */
import { DEPARTMENTS } from '../../core/cases/categories.ts';
import { newSecret } from '../auth/secrets.ts';
import type { CasePort } from '../cases/port.ts';
import type { Services } from '../services.ts';
import { Open311Api, type District } from './api.ts';
import { SqlOpen311Store, newPublicId } from './store.ts';

const DEPT_TTL_MS = 60_000;
const cache = new WeakMap<Services, Open311Api>();

export function open311Of(s: Services): Open311Api {
  let api = cache.get(s);
  if (api) return api;
  let depts: { at: number; map: Map<string, { zh: string; en: string }> } | null = null;
  let districts: { version: number | null; list: District[] } | null = null;
  api = new Open311Api({
    cases: () => s.ext.cases as CasePort | undefined,
    store: new SqlOpen311Store(s.db),
    async departments() {
      const now = Date.now();
      if (depts && now - depts.at < DEPT_TTL_MS) return depts.map;
      const map = new Map<string, { zh: string; en: string }>(
        Object.entries(DEPARTMENTS).map(([id, d]) => [id, { zh: d.zh, en: d.en }]),
      );
      try {
        const r = await s.db.query<{ id: string; name: string; name_en: string }>(
          `SELECT id, name, name_en FROM departments`,
        );
        for (const d of r.rows) map.set(d.id, { zh: d.name, en: d.name_en || d.name });
      } catch (e) {
        s.log.warn({ err: e }, 'open311: departments not readable');
      }
      depts = { at: now, map };
      return map;
    },
    grids: {
      join: (lng, lat) => s.grids.join(lng, lat),
      name: (code) => s.grids.get(code)?.name ?? null,
      districts() {
        if (!districts || districts.version !== s.grids.version) {
          const fc = JSON.parse(s.grids.geojson({ level: 1 })) as {
            features: { properties: { code: string; name: string } }[];
          };
          districts = {
            version: s.grids.version,
            list: fc.features.map((f) => ({ code: f.properties.code, name: f.properties.name })),
          };
        }
        return districts.list;
      },
    },
    now: () => Date.now(),
    newToken: () => newSecret(18),
    newPublicId,
    limits: {
      perKeyPerMinute: s.config.open311RatePerKey,
      perAddressPerMinute: s.config.open311RatePerAddress,
      foldWindowMs: s.config.open311FoldMin * 60_000,
    },
    log: s.log,
  });
  cache.set(s, api);
  return api;
}
