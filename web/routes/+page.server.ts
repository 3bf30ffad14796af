import { redirect } from '@sveltejs/kit';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { env } from '$env/dynamic/public';
import { getServices } from '$lib/server/platform.ts';
import type { PageServerLoad } from './$types';

/**
 * The wall needs a signed-in user. It also learns whether the SIMULATED fleet runs (badge) and which
 * basemap to draw: `PUBLIC_BASEMAP_STYLE` (a MapLibre style URL on the intranet), else
 * `DATA_DIR/basemap.json` served at `/basemap.json`, else the built-in offline style (null).
 */
export const load: PageServerLoad = ({ locals }) => {
  if (!locals.user) redirect(303, '/login');
  const s = getServices();
  let basemapStyle: string | null = env.PUBLIC_BASEMAP_STYLE?.trim() || null;
  if (!basemapStyle && existsSync(path.join(s.config.dataDir, 'basemap.json'))) basemapStyle = '/basemap.json';
  return { demo: s.demo, basemapStyle };
};
