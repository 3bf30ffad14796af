import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import type { EventTypeTable } from '../../../../../ingest/intake/event-types.ts';

function table(): EventTypeTable {
  const t = getServices().ext.eventTypes as EventTypeTable | undefined;
  if (!t) fail('not_found', 'event-type table is not running');
  return t;
}

/** Vendor event types → OneGrid types: `{defaults, custom, effective}` (admin). */
export const GET = api(async (event) => {
  requireRole(event);
  return json(table().view());
});

/** Replace the admin's entries: `{"vendorName": {"type": "fire_alarm" | null, "label"?: "…"}}` (admin). */
export const PUT = api(async (event) => {
  requireRole(event);
  const t = table();
  await t.replace(await readJson(event));
  return json(t.view());
});
