/**
 * One handler for both alarm-push endpoints: reads the body (XML, JSON, text, or multipart with a picture),
 * hands it to the platform's AlarmIntake (ingest/intake/alarm-push.ts) and answers 200 with what was stored.
 * A missing or wrong credential answers 401 with `WWW-Authenticate: Basic` (cameras retry with it).
 */
import { json, type RequestEvent } from '@sveltejs/kit';
import { api, apiError, fail } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import type { AlarmIntake, PushPart, Vendor } from '../../../../ingest/intake/alarm-push.ts';
import { MAX_PUSH_BYTES } from '../../../../ingest/intake/alarm-push.ts';

export function pushHandler(vendor: Vendor) {
  return api(async (event: RequestEvent) => {
    const intake = getServices().ext.intake as AlarmIntake | undefined;
    if (!intake) fail('not_found', 'alarm intake is not running');
    const id = event.params.cameraId ?? '';
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) fail('not_found', `no device ${id}`);
    const auth = event.request.headers.get('authorization');
    if (!auth)
      return withChallenge(apiError(401, 'unauthorized', `HTTP Basic authentication as device ${id} is required`));
    const len = Number(event.request.headers.get('content-length') ?? 0);
    if (len > MAX_PUSH_BYTES) fail('payload_too_large', `push larger than ${MAX_PUSH_BYTES} bytes`);
    const type = (event.request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const parts: PushPart[] = [];
    if (type === 'multipart/form-data' || type === 'multipart/mixed') {
      let form: FormData;
      try {
        form = await event.request.formData();
      } catch {
        fail('bad_request', 'the multipart body could not be read');
      }
      for (const [, v] of form.entries()) {
        if (typeof v === 'string') parts.push({ text: v, mime: 'text/plain' });
        else if (/xml|json|text/.test(v.type) || (!v.type && !/\.(jpe?g|png)$/i.test(v.name)))
          parts.push({ text: await v.text(), mime: v.type });
        else parts.push({ bytes: Buffer.from(await v.arrayBuffer()), mime: v.type || 'image/jpeg' });
      }
    } else {
      const body = Buffer.from(await event.request.arrayBuffer());
      if (body.length > MAX_PUSH_BYTES) fail('payload_too_large', `push larger than ${MAX_PUSH_BYTES} bytes`);
      parts.push({ text: body.toString('utf8'), mime: type });
    }
    try {
      return json(await intake.receive(vendor, id, auth, parts));
    } catch (e) {
      if ((e as { code?: string }).code === 'unauthorized')
        return withChallenge(apiError(401, 'unauthorized', (e as Error).message));
      throw e;
    }
  });
}

function withChallenge(r: Response): Response {
  r.headers.set('www-authenticate', 'Basic realm="OneGrid alarm intake", charset="UTF-8"');
  return r;
}
