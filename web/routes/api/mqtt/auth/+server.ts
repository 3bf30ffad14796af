import { json } from '@sveltejs/kit';
import { api, fail, readJson } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';

/**
 * Device authentication for an external broker (EMQX 5 HTTP authenticator, docker/compose.yml): the broker
 * posts `{"username", "password", "clientid"}` and gets `{"result": "allow" | "deny"}`, so device secrets stay
 * hashed in one place, the registry. Topic ACL stays in the consumer (and the broker's own ACL).
 */
export const POST = api(async (event) => {
  const s = getServices();
  // Only in external-broker mode: the embedded broker authenticates in process, and an open credential
  // oracle is not something to offer without a reason. Put it behind the internal network (compose).
  if (!s.config.mqttUrl)
    fail('not_found', 'MQTT HTTP authentication is served in external-broker mode (MQTT_URL) only');
  const body = (await readJson(event, 16 * 1024)) as { username?: unknown; password?: unknown };
  if (typeof body?.username !== 'string' || typeof body?.password !== 'string') return json({ result: 'deny' });
  const p = await s.ingest.checkCredentials(body.username, body.password);
  return json({ result: p ? 'allow' : 'deny', is_superuser: false, client_attrs: p ? { kind: p.kind } : undefined });
});
