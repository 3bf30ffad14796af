import { json } from '@sveltejs/kit';
import { api, fail, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';
import { insertEvidence, listEvidence } from '../../../../../../ingest/cases/video-linkage.ts';

/** Photo types a browser shows inline; anything else would be a download nobody opens on a wall. */
const EVIDENCE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/**
 * adapter-node refuses bodies over its BODY_SIZE_LIMIT (512 KiB by default) before this handler runs; the
 * workbench scales photos down to 1600 px JPEG in the browser first (a few hundred KiB), so the same bound
 * applies here and says so in our own error envelope.
 */
const EVIDENCE_MAX_BYTES = 512 << 10;
/** Kinds a person may attach: at intake (接件 附件) or with the handling result (处置照片). */
const KINDS = ['attachment', 'photo'] as const;

/**
 * The evidence files of a case: `{"evidence": [{id, kind, source, mime, createdAt, url}]}` (camera snapshots,
 * intake attachments, handling photos), for whoever may read the case; 404 outside the user's scope.
 */
export const GET = api(async (event) => {
  const c = await caseService().getByIdOrCode(event.params.id ?? '', actorFor(requireUser(event)));
  const rows = await listEvidence(getServices().db, c.id);
  return json({ evidence: rows.map((e) => ({ ...e, url: `/api/cases/${c.id}/evidence/${e.id}` })) });
});

/**
 * Attach a photo: the body is the image itself (`content-type` image/jpeg, image/png or image/webp, at most
 * 512 KiB), `?kind=attachment|photo` (default photo). Only a user who may act on the case now (its `actions` are
 * not empty) may attach. 201 `{id, url}`; the url goes into the `evidence` of a `handle` action.
 * Errors: 400 validation_failed (type, size, kind, empty), 403 forbidden, 404 not_found.
 */
export const POST = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const svc = caseService();
  const c = await svc.getByIdOrCode(event.params.id ?? '', actor);
  if (svc.allowedActions(c, actor).length === 0) fail('forbidden', `you may not act on case ${c.code}`);
  const kind = event.url.searchParams.get('kind') ?? 'photo';
  if (!(KINDS as readonly string[]).includes(kind))
    fail('validation_failed', `kind must be one of ${KINDS.join(', ')}`, { field: 'kind' });
  const mime = (event.request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!(EVIDENCE_TYPES as readonly string[]).includes(mime))
    fail('validation_failed', `content-type must be one of ${EVIDENCE_TYPES.join(', ')}`, { field: 'content-type' });
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > EVIDENCE_MAX_BYTES) fail('validation_failed', `a photo may be at most ${EVIDENCE_MAX_BYTES} bytes`);
  const bytes = Buffer.from(await event.request.arrayBuffer());
  if (bytes.length === 0) fail('validation_failed', 'the body is empty');
  if (bytes.length > EVIDENCE_MAX_BYTES)
    fail('validation_failed', `a photo may be at most ${EVIDENCE_MAX_BYTES} bytes`);
  const id = await insertEvidence(getServices().db, { caseId: c.id, kind, source: actor.id, mime, bytes });
  const url = `/api/cases/${c.id}/evidence/${id}`;
  return json({ id, url }, { status: 201, headers: { location: url } });
});
