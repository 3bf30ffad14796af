import { json } from '@sveltejs/kit';
import { api, readJson } from '$lib/server/api.ts';
import {
  SERVICE_ID,
  SERVICE_KIND,
  clientIdAllowed,
  decideTopic,
  type AclAction,
  type Principal,
} from '../../../../../ingest/broker/auth.ts';
import { DeviceCache } from '../../../../../ingest/consumer/registry.ts';
import { field, requireBroker } from '../hooks.ts';

/**
 * Topic authorisation for an external broker (EMQX 5 HTTP authorizer, docker/compose.yml): the broker posts
 * `{"clientid", "username", "topic", "action": "publish" | "subscribe"}` with `X-OneGrid-Broker-Key` and
 * gets `{"result": "allow" | "deny"}` (never "ignore": the broker's `no_match` is deny as well).
 *
 * The decision is `topicAcl` of ingest/broker/auth.ts, the function the embedded broker runs: own
 * `dev/{id}/…`, a gateway's registered children, Frigate topics only for gateways, the service's
 * subscriptions and bus; anything else denied. The registry is read fresh for each question (EMQX caches
 * answers per client for a minute, `authorization.cache`).
 */
export const POST = api(async (event) => {
  const s = requireBroker(event);
  const body = await readJson(event, 16 * 1024);
  const username = field(body, 'username', 128);
  const clientId = field(body, 'clientid', 256);
  const topic = field(body, 'topic', 65535);
  const action = field(body, 'action', 16) as AclAction;
  const deny = (reason: string) => json({ result: 'deny', reason });
  if (!username || !topic) return deny('bad_request');
  const devices = new DeviceCache(s.db, Date.now);
  const registered = async (id: string) => {
    await devices.load(id);
    return !!devices.get(id);
  };
  if (!(await clientIdAllowed(username, clientId, registered))) return deny('client_id');
  let principal: Principal;
  if (username === SERVICE_ID) principal = { id: SERVICE_ID, kind: SERVICE_KIND };
  else {
    await devices.load(username);
    const d = devices.get(username);
    if (!d) return deny('unknown_principal');
    principal = { id: d.id, kind: d.kind };
  }
  return (await decideTopic(principal, topic, action, devices)) ? json({ result: 'allow' }) : deny('acl');
});
