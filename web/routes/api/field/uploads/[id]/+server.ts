import { json } from '@sveltejs/kit';
import { api, fail, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { CHUNK_MAX_BYTES, putChunk, uploadState } from '../../../../../../ingest/field/index.ts';

/** Where an upload stands: `{id, size, received, sha256}` (resume from `received`). 404 for another user's id. */
export const GET = api(async (event) => {
  const u = requireUser(event);
  return json(await uploadState(getServices().db, u.username, event.params.id ?? ''));
});

/**
 * A chunk: the body is raw bytes (at most 256 KiB), `Upload-Offset` header (or `?offset=`) the byte offset it
 * starts at (the tus protocol's header name). Bytes already received are skipped. → `{id, size, received,
 * sha256}`. Errors: 400 validation_failed, 404 not_found, 409 conflict with `details.received` (resume from
 * there), 413 payload_too_large.
 */
export const PUT = api(async (event) => {
  const u = requireUser(event);
  const raw = event.request.headers.get('upload-offset') ?? event.url.searchParams.get('offset');
  if (raw === null || !/^\d+$/.test(raw.trim()))
    fail('validation_failed', 'Upload-Offset (bytes) is required', { field: 'offset' });
  const declared = Number(event.request.headers.get('content-length') ?? 0);
  if (declared > CHUNK_MAX_BYTES) fail('payload_too_large', `a chunk may be at most ${CHUNK_MAX_BYTES} bytes`);
  const bytes = Buffer.from(await event.request.arrayBuffer());
  return json(await putChunk(getServices().db, u.username, event.params.id ?? '', Number(raw), bytes));
});
