import { json } from '@sveltejs/kit';
import { api, num, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { discardDraft, draftGrids, draftReport, getDraft } from '../../../../../../ingest/grids/drafts.ts';
import { gridFeature } from '../../../../../../ingest/store/grids.ts';

/**
 * A draft: its state and revision, its grids (GeoJSON FeatureCollection, [lng, lat]) and topology report
 * (the one kept for the current revision, else a full check, then kept for the next edit's incremental one).
 */
export const GET = api(async (event) => {
  requireRole(event, 'analyst');
  const id = num(event.params.id ?? null, 'id', { int: true, min: 1 })!;
  const db = getServices().db;
  const draft = await getDraft(db, id);
  const grids = { type: 'FeatureCollection', features: (await draftGrids(db, id)).map(gridFeature) };
  return json({ draft, grids, report: await draftReport(db, id) });
});

/** Discard a draft that is not published. */
export const DELETE = api(async (event) => {
  const user = requireRole(event, 'analyst');
  const id = num(event.params.id ?? null, 'id', { int: true, min: 1 })!;
  await discardDraft(getServices().db, id, user.username);
  return new Response(null, { status: 204 });
});
