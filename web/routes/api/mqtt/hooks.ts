/**
 * Shared by the external broker's HTTP hooks (`POST /api/mqtt/auth`, `POST /api/mqtt/acl`, EMQX 5 HTTP
 * authentication and authorisation, docker/compose.yml): who may call them, and the failed-CONNECT limits.
 * The decisions themselves are ingest/broker/auth.ts's (`admitConnect`, `topicAcl`), the same functions the
 * embedded broker runs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestEvent } from '@sveltejs/kit';
import { fail } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { ConnectLimiter } from '../../../../ingest/broker/auth.ts';

/** The header the broker sends MQTT_SERVICE_SECRET in. */
export const BROKER_KEY_HEADER = 'x-onegrid-broker-key';

/** Failed CONNECTs per id and per address, counted across every broker node that asks this process. */
export const hookLimiter = new ConnectLimiter();

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Only in external-broker mode (MQTT_URL) with MQTT_SERVICE_SECRET set (else 404 `not_found`: the embedded
 * broker decides in process, and an open credential oracle is nothing to offer), and only for a caller that
 * sends that secret in `X-OneGrid-Broker-Key` (else 401 `unauthorized`).
 */
export function requireBroker(event: RequestEvent): ReturnType<typeof getServices> {
  const s = getServices();
  const secret = s.config.mqttServiceSecret;
  if (!s.config.mqttUrl || !secret)
    fail('not_found', 'MQTT HTTP hooks are served in external-broker mode (MQTT_URL, MQTT_SERVICE_SECRET) only');
  const key = event.request.headers.get(BROKER_KEY_HEADER) ?? '';
  if (!timingSafeEqual(digest(key), digest(secret)))
    fail('unauthorized', `the broker must send MQTT_SERVICE_SECRET in ${BROKER_KEY_HEADER}`);
  return s;
}

/** A string field of the hook's JSON body, or '' (EMQX sends `undefined` placeholders as empty strings). */
export function field(body: unknown, name: string, max = 1024): string {
  const v = (body as Record<string, unknown> | null)?.[name];
  return typeof v === 'string' && v.length <= max ? v : '';
}
