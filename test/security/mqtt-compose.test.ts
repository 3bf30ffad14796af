/**
 * Issue 11 finding 9 — the scaled deployment (docker/compose.yml, read with the yaml package, merge keys
 * resolved): every EMQX node authenticates at `/api/mqtt/auth` and authorises at `/api/mqtt/acl` with the
 * broker key, `no_match` is deny and the HTTP source is the only one, and ingest connects to the name every
 * node answers to. Fails when a broker node lacks either hook.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('docker/compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker/compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { image?: string; environment?: Record<string, string>; networks?: unknown }>;
  };
  const brokers = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('emqx/'));

  it('has broker nodes', () => {
    expect(brokers.length).toBeGreaterThanOrEqual(2);
  });

  it.each(brokers.map(([n]) => n))('%s authenticates over HTTP at /api/mqtt/auth with the broker key', (name) => {
    const env = compose.services[name].environment ?? {};
    expect(env.EMQX_AUTHENTICATION__1__MECHANISM).toBe('password_based');
    expect(env.EMQX_AUTHENTICATION__1__BACKEND).toBe('http');
    expect(env.EMQX_AUTHENTICATION__1__URL).toMatch(/\/api\/mqtt\/auth$/);
    expect(env.EMQX_AUTHENTICATION__1__HEADERS).toContain('x-onegrid-broker-key');
    expect(env.EMQX_AUTHENTICATION__1__HEADERS).toContain('${MQTT_SERVICE_SECRET');
    for (const p of ['username', 'password', 'clientid', 'peerhost'])
      expect(env.EMQX_AUTHENTICATION__1__BODY).toContain(`$\${${p}}`);
  });

  it.each(brokers.map(([n]) => n))(
    '%s authorises every publish and subscribe at /api/mqtt/acl, no match = deny',
    (name) => {
      const env = compose.services[name].environment ?? {};
      expect(env.EMQX_AUTHORIZATION__NO_MATCH).toBe('deny');
      const sources = env.EMQX_AUTHORIZATION__SOURCES ?? '';
      expect(sources).toMatch(/type\s*=\s*http/);
      expect(sources).toMatch(/\/api\/mqtt\/acl"/);
      expect(sources).toContain('x-onegrid-broker-key');
      for (const p of ['clientid', 'username', 'topic', 'action']) expect(sources).toContain(`$\${${p}}`);
      // Only the HTTP source: EMQX's default file source would allow everything not denied.
      expect(sources.match(/type\s*=/g)).toHaveLength(1);
    },
  );

  it('ingest connects to the cluster name every broker node answers to, with the service secret', () => {
    const env = compose.services.onegrid.environment ?? {};
    const host = new URL(env.MQTT_URL).hostname;
    for (const [name, s] of brokers) {
      const aliases = (s.networks as { default?: { aliases?: string[] } })?.default?.aliases ?? [];
      expect([name, aliases.includes(host)]).toEqual([name, true]);
    }
    expect(env.MQTT_SERVICE_SECRET).toContain('${MQTT_SERVICE_SECRET');
  });
});
