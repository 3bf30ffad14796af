import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { codeProfile } from '../../../../../core/index.ts';
import { createDraftFromImport, createDraftFromPublished, listDrafts } from '../../../../../ingest/grids/drafts.ts';
import { importGrids, type GridFormat } from '../../../../../ingest/grids/io.ts';

/** The grid studio's drafts (role analyst or admin). ingest/grids/drafts.ts says what they are. */
export const GET = api(async (event) => {
  requireRole(event, 'analyst');
  return json({ drafts: await listDrafts(getServices().db) });
});

/**
 * Create a draft. JSON `{"from": "published", "label"?, "profile"?}` copies the published set (with a
 * `profile` other than the published one, every base grid is numbered afresh in it); any other body is a
 * grid file (GeoJSON, zipped Shapefile, KML, KMZ) imported with the same rules as `onegrid grids import`
 * (query: format, crs, encoding, codeField, nameField, levelField, profile, label). Topology problems of
 * an import do not refuse it: the draft is where they are fixed (the report comes back).
 */
export const POST = api(async (event) => {
  const user = requireRole(event, 'analyst');
  const s = getServices();
  const type = event.request.headers.get('content-type') ?? '';
  if (type.startsWith('application/json')) {
    const body = (await readJson(event)) as { from?: unknown; label?: unknown; profile?: unknown } | null;
    if (body?.from !== 'published') fail('validation_failed', 'from must be "published" (or upload a grid file)');
    const label = typeof body.label === 'string' && body.label.trim() ? body.label.trim().slice(0, 200) : undefined;
    if (body.profile !== undefined && typeof body.profile !== 'string')
      fail('validation_failed', 'profile must be a code profile id: gb15, gb14 or stat20');
    const profile = body.profile ? codeProfile(body.profile).id : undefined; // invalid_code (422) when unknown
    return json({ draft: await createDraftFromPublished(s.db, user.username, label, profile) }, { status: 201 });
  }
  const p = event.url.searchParams;
  const maxBytes = s.config.gridImportMaxMb * 1024 * 1024;
  const buf = new Uint8Array(await event.request.arrayBuffer());
  if (buf.length === 0)
    fail(
      'bad_request',
      'the body is empty: upload a grid file with a Content-Type (application/octet-stream, application/zip, application/geo+json …)',
    );
  if (buf.length > maxBytes) fail('payload_too_large', `the file is larger than ${s.config.gridImportMaxMb} MiB`);
  const profile = codeProfile(p.get('profile') ?? s.config.gridCodeProfile);
  const fc = await importGrids(buf, {
    format: (p.get('format') ?? undefined) as GridFormat | undefined,
    crs: p.get('crs') ?? undefined,
    encoding: p.get('encoding') ?? undefined,
    codeField: p.get('codeField') ?? undefined,
    nameField: p.get('nameField') ?? undefined,
    levelField: p.get('levelField') ?? undefined,
    profile,
    region: s.config.gridRegion,
    maxBytes,
    maxFeatures: s.config.gridImportMaxFeatures,
    validate: false,
  });
  const label = (p.get('label') ?? 'upload').slice(0, 200);
  const draft = await createDraftFromImport(s.db, user.username, fc.features, profile, label);
  return json({ draft, source: fc.source, repairs: fc.repairs }, { status: 201 });
});
