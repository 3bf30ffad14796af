/**
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/:
 * `discovery.{json,xml}`, `services.{json,xml}`, `requests.{json,xml}` (GET, and POST with an api_key).
 * The methods live in ingest/open311/.
 */
import type { RequestHandler } from './$types';
import { getServices } from '$lib/server/platform.ts';
import { Open311Error, handle, open311Of, publicOrigin, readPost } from '../../../../../ingest/open311/index.ts';

export const GET: RequestHandler = async ({ request, params, url }) => {
  const s = getServices();
  const api = open311Of(s);
  return handle(
    request,
    params.file,
    null,
    ({ name, lang }) => {
      const q = url.searchParams;
      switch (name) {
        case 'discovery':
          return api.discovery(publicOrigin(request, url), lang);
        case 'services':
          return api.services(q, url.hostname, lang);
        case 'requests':
          return api.getRequests(q, url.hostname, lang, publicOrigin(request, url));
        default:
          throw new Open311Error(
            404,
            lang === 'zh' ? `没有这个资源：${params.file}` : `No such resource: ${params.file}`,
          );
      }
    },
    s.log,
  );
};

/**
 * POST service request. Rate-limited per client address and per api_key (429 with Retry-After); an identical
 * submission within the fold window answers with the earlier request's id (ingest/open311/flood.ts).
 */
export const POST: RequestHandler = async ({ request, params, url, getClientAddress }) => {
  const s = getServices();
  const api = open311Of(s);
  let ip: string | null = null;
  try {
    ip = getClientAddress();
  } catch {
    ip = null;
  }
  return handle(
    request,
    params.file,
    'requests',
    async ({ lang }) => api.postRequest(await readPost(request, lang), url.hostname, lang, { ip }),
    s.log,
  );
};

/** CORS preflight for browser clients posting JSON. */
export const OPTIONS: RequestHandler = () =>
  new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, accept-language',
      'access-control-max-age': '86400',
    },
  });
