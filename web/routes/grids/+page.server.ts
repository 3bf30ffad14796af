import { error, redirect } from '@sveltejs/kit';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { env } from '$env/dynamic/public';
import { getServices } from '$lib/server/platform.ts';
import { publishedVersion } from '../../../ingest/store/grids.ts';
import type { PageServerLoad } from './$types';

/**
 * The grid studio (issue 14): analysts and admins only (the drafts API checks the same role). The page
 * learns the published version, the code profile configured for the district, and the basemap style (as
 * the wall: PUBLIC_BASEMAP_STYLE, else DATA_DIR/basemap.json, else the built-in offline style).
 */
export const load: PageServerLoad = async ({ locals }) => {
  if (!locals.user) redirect(303, '/login?next=%2Fgrids');
  if (locals.user.role !== 'analyst' && locals.user.role !== 'admin') error(403, 'grid analysts and admins only');
  const s = getServices();
  let basemapStyle: string | null = env.PUBLIC_BASEMAP_STYLE?.trim() || null;
  if (!basemapStyle && existsSync(path.join(s.config.dataDir, 'basemap.json'))) basemapStyle = '/basemap.json';
  const version = await publishedVersion(s.db);
  let baseGrids = 0;
  let publishedProfile: string = s.config.gridCodeProfile;
  if (version !== null) {
    const r = await s.db.query<{ n: number; profile: string | null }>(
      `SELECT (SELECT count(*)::int FROM grids WHERE version_id = $1 AND level = 4) AS n,
              (SELECT profile FROM grid_versions WHERE id = $1) AS profile`,
      [version],
    );
    baseGrids = r.rows[0]?.n ?? 0;
    publishedProfile = r.rows[0]?.profile ?? publishedProfile;
  }
  return {
    me: locals.user.username,
    published: version === null ? null : { version, baseGrids, profile: publishedProfile },
    profile: s.config.gridCodeProfile,
    basemapStyle,
  };
};
