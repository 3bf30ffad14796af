/** Open311 GeoReport v2 service_request_id from a token: /open311/v2/tokens/{token}.{json,xml}. */
import type { RequestHandler } from './$types';
import { getServices } from '$lib/server/platform.ts';
import { handle, open311Of } from '../../../../../../ingest/open311/index.ts';

export const GET: RequestHandler = async ({ request, params, url }) => {
  const s = getServices();
  return handle(
    request,
    params.file,
    null,
    ({ name, lang }) => open311Of(s).token(name, url.searchParams, url.hostname, lang),
    s.log,
  );
};
