import { json } from '@sveltejs/kit';
import { api, fail, num, readJson, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import {
  approveDraft,
  draftDiff,
  draftHistory,
  editDraft,
  publishDraft,
  recodeDraft,
  redoDraft,
  submitDraft,
  undoDraft,
} from '../../../../../../../ingest/grids/drafts.ts';

/** Edits carry geometry: a larger body than other JSON routes. */
const MAX_EDIT_BODY = 32 << 20;

/** GET history | diff. */
export const GET = api(async (event) => {
  requireRole(event, 'analyst');
  const id = num(event.params.id ?? null, 'id', { int: true, min: 1 })!;
  const db = getServices().db;
  if (event.params.action === 'history') return json({ history: await draftHistory(db, id) });
  if (event.params.action === 'diff') return json(await draftDiff(db, id));
  fail('not_found', `no such draft resource "${event.params.action}"`);
});

/**
 * POST changes | undo | redo | recode | submit | approve | publish. Every body names the draft's `rev`;
 * a stale one is 409 `stale_version`. See ingest/grids/drafts.ts for each step.
 */
export const POST = api(async (event) => {
  const user = requireRole(event, 'analyst');
  const id = num(event.params.id ?? null, 'id', { int: true, min: 1 })!;
  const s = getServices();
  const body = ((await readJson(event, MAX_EDIT_BODY)) ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || Array.isArray(body)) fail('validation_failed', 'the body is a JSON object');
  const who = user.username;
  switch (event.params.action) {
    case 'changes':
      return json(await editDraft(s.db, id, who, { rev: body.rev, summary: body.summary, ops: body.ops }));
    case 'undo':
      return json(await undoDraft(s.db, id, who, body.rev));
    case 'redo':
      return json(await redoDraft(s.db, id, who, body.rev));
    case 'recode':
      return json(await recodeDraft(s.db, id, who, body));
    case 'submit':
      return json({ draft: await submitDraft(s.db, id, who, body.rev) });
    case 'approve':
      return json({ draft: await approveDraft(s.db, id, who, body.rev) });
    case 'publish': {
      const r = await publishDraft(s.db, id, who, {
        rev: body.rev,
        confirm: body.confirm,
        ip: event.getClientAddress(),
        maxOutsideShare: s.config.gridPublishMaxOutside,
      });
      await s.grids.load(); // the wall, joins and scopes use the new set from now on
      return json(r);
    }
  }
  fail('not_found', `no such draft action "${event.params.action}"`);
});
