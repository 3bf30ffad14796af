/**
 * Open311 GeoReport v2 single service request: /open311/v2/requests/{service_request_id}.{json,xml}. Only the
 * public id resolves (not the internal case code).
 */
import type { RequestHandler } from './$types';
import { getServices } from '$lib/server/platform.ts';
import { handle, open311Of, publicOrigin } from '../../../../../../ingest/open311/index.ts';

export const GET: RequestHandler = async ({ request, params, url }) => {
  const s = getServices();
  return handle(
    request,
    params.file,
    null,
    ({ name, lang }) => open311Of(s).getRequest(name, url.searchParams, url.hostname, lang, publicOrigin(request, url)),
    s.log,
  );
};
