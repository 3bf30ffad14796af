import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { completeUpload } from '../../../../../../../ingest/field/index.ts';

/**
 * Finish an upload: the photo is checked and stored once by SHA-256 → `{sha256, mime, size, takenAt, location}`
 * (EXIF time and GPS [lng, lat], or null). `sha256` is the photo's id in actions. Repeating it is harmless.
 * Errors: 404 not_found, 409 conflict (bytes missing: `details.received`), 413 payload_too_large,
 * 415 unsupported_media (not JPEG, PNG or WebP — HEIC included), 400 validation_failed (damaged image).
 */
export const POST = api(async (event) => {
  const u = requireUser(event);
  return json(await completeUpload(getServices().db, u.username, event.params.id ?? ''));
});
