import { json } from '@sveltejs/kit';
import { api, readJson } from '$lib/server/api.ts';
import { admitConnect } from '../../../../../ingest/broker/auth.ts';
import { DeviceCache } from '../../../../../ingest/consumer/registry.ts';
import { field, hookLimiter, requireBroker } from '../hooks.ts';

/**
 * Device authentication for an external broker (EMQX 5 HTTP authenticator, docker/compose.yml): the broker
 * posts `{"username", "password", "clientid", "peerhost"?}` with `X-OneGrid-Broker-Key` and gets
 * `{"result": "allow" | "deny"}`, so device secrets stay hashed in one place, the registry.
 *
 * The same admission as the embedded broker (`admitConnect`, README "Security → MQTT"): registry
 * credentials (or the service login `_onegrid` / MQTT_SERVICE_SECRET), the client-id rule (`{id}` or
 * `{id}:{suffix}`, or `{id}-{suffix}` etc. when that is not another registered id), and the failed-CONNECT limits per id and per `peerhost` — while limited, refused without
 * running scrypt. A denied CONNECT never reaches the broker's session takeover, so the holder stays on.
 */
export const POST = api(async (event) => {
  const s = requireBroker(event);
  const body = await readJson(event, 16 * 1024);
  const r = await admitConnect(
    {
      check: (id, secret) => s.ingest.checkCredentials(id, secret),
      limiter: hookLimiter,
      serviceSecret: s.config.mqttServiceSecret,
      isRegistered: async (id) => {
        const devices = new DeviceCache(s.db, Date.now);
        await devices.load(id);
        return !!devices.get(id);
      },
    },
    {
      username: field(body, 'username') || undefined,
      password: field(body, 'password') || undefined,
      clientId: field(body, 'clientid'),
      address: field(body, 'peerhost', 64) || null,
    },
  );
  if (!r.ok) return json({ result: 'deny', reason: r.reason });
  return json({ result: 'allow', is_superuser: false, client_attrs: { kind: r.principal.kind } });
});
