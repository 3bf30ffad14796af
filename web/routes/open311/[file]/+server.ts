/**
 * Open311 service discovery above the versioned endpoints (http://wiki.open311.org/Service_Discovery):
 * /open311/discovery.{json,xml}, the same document as /open311/v2/discovery.{json,xml}.
 */
import type { RequestHandler } from './$types';
import { getServices } from '$lib/server/platform.ts';
import { handle, open311Of, publicOrigin } from '../../../../ingest/open311/index.ts';

export const GET: RequestHandler = async ({ request, params, url }) => {
  const s = getServices();
  return handle(
    request,
    params.file,
    'discovery',
    ({ lang }) => open311Of(s).discovery(publicOrigin(request, url), lang),
    s.log,
  );
};
