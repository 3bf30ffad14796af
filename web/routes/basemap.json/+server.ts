import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { api, fail, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';

/** An intranet basemap style dropped into DATA_DIR as `basemap.json` (see README "Basemap"). */
export const GET = api(async (event) => {
  requireUser(event);
  const file = path.join(getServices().config.dataDir, 'basemap.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    fail('not_found', 'no basemap.json in DATA_DIR: the wall uses its offline style');
  }
  return new Response(text, {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private, max-age=300' },
  });
});
