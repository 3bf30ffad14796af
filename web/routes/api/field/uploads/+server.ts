import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { CHUNK_MAX_BYTES, initUpload } from '../../../../../ingest/field/index.ts';

/**
 * Start a resumable photo upload: `{id: UUID made by the client, size: bytes}` → `{id, size, received, sha256,
 * chunkMaxBytes}`. The same id again answers where it stands (resume). Errors: 400 validation_failed,
 * 409 conflict (the id was started with another size), 413 payload_too_large (over the photo cap).
 */
export const POST = api(async (event) => {
  const u = requireUser(event);
  const b = (await readJson(event, 4096)) as { id?: unknown; size?: unknown } | null;
  const st = await initUpload(getServices().db, u.username, b?.id, b?.size);
  return json({ ...st, chunkMaxBytes: CHUNK_MAX_BYTES }, { status: 201 });
});
