import { api, fail, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';
import { getEvidence } from '../../../../../../../ingest/cases/video-linkage.ts';

/** An evidence file of a case (e.g. the camera snapshot taken when it was raised), for whoever may read the case. */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const c = await caseService().getByIdOrCode(event.params.id ?? '', actorFor(u));
  const id = Number(event.params.eid);
  if (!Number.isInteger(id) || id < 1) fail('not_found', 'no such evidence');
  const e = await getEvidence(getServices().db, c.id, id);
  if (!e) fail('not_found', 'no such evidence');
  return new Response(new Uint8Array(e.bytes), {
    headers: { 'content-type': e.mime, 'cache-control': 'private, max-age=86400' },
  });
});
