import { json } from '@sveltejs/kit';
import { api, fail, num } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';

/** `{district, street, community, grid}` codes for a WGS-84 point; nulls outside every grid. */
export const GET = api((event) => {
  const lng = num(event.url.searchParams.get('lng'), 'lng', { min: -180, max: 180 });
  const lat = num(event.url.searchParams.get('lat'), 'lat', { min: -90, max: 90 });
  if (lng === undefined || lat === undefined) fail('validation_failed', 'lng and lat are required (WGS-84 degrees)');
  return json(getServices().grids.join(lng, lat));
});
