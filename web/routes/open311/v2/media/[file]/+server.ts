/**
 * The public copy of a photo uploaded with a service request: /open311/v2/media/{service_request_id}.jpg —
 * the request's `media_url`. A JPEG re-encoded without metadata (no EXIF GPS position); the original stays
 * case evidence for the handlers (GET /api/cases/{id}/evidence/{eid}). 404 in the GeoReport error format
 * when the request has no photo.
 */
import type { RequestHandler } from './$types';
import { getServices } from '$lib/server/platform.ts';
import { Open311Error, langOf, open311Of, renderError } from '../../../../../../ingest/open311/index.ts';

export const GET: RequestHandler = async ({ request, params }) => {
  const s = getServices();
  const lang = langOf(request);
  const m = /^([0-9a-f]{1,100})\.jpg$/.exec(params.file);
  const photo = m ? await open311Of(s).media(m[1]) : null;
  if (!photo)
    return renderError(
      'json',
      new Open311Error(404, lang === 'zh' ? `没有这张照片：${params.file}` : `No such photo: ${params.file}`),
      lang,
    );
  return new Response(new Uint8Array(photo.bytes), {
    headers: {
      'content-type': photo.mime,
      'cache-control': 'public, max-age=3600',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    },
  });
};
