/**
 * Issue 11 finding 2 — MQTT identity on the embedded broker, with real mqtt.js clients and the real ingest
 * hooks over PGlite: a client id is the principal's id or `{id}:{suffix}` (README "Security → MQTT"), a
 * foreign takeover is refused with CONNACK 2 and the holder stays connected and online, the same principal
 * may take its own id over, long or malformed ids are refused, keep-alive 0 is held to the cap, and a flood
 * of failed CONNECTs is refused without running scrypt (counted, never timed).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { rmSync } from 'node:fs';
import { seededDataDir } from '../harness/platform.ts';
import { connect as netConnect } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Db } from '../../ingest/store/db.ts';
import { CONNECT_LIMITS, clientIdAllowed } from '../../ingest/broker/auth.ts';
import { MAX_KEEPALIVE_S, startEmbeddedBroker } from '../../ingest/broker/embedded.ts';
import { SECRETS, seededPglite, silentLog, startRig, waitFor, type Rig } from '../ingest/helpers.ts';
import { openPglite } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { seed } from '../../ingest/seed.ts';
import { getKv } from '../../ingest/store/users.ts';
import { startSimulator } from '../../ingest/demo/simulator.ts';

// Count every scrypt verification (ingest/auth/secrets.ts verifySecret), the cost a flood must not buy.
const scrypt = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../ingest/auth/secrets.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../ingest/auth/secrets.ts')>();
  return {
    ...m,
    verifySecret: (...a: Parameters<typeof m.verifySecret>) => {
      scrypt.calls++;
      return m.verifySecret(...a);
    },
  };
});

/** Connect; resolves 'connected' or the CONNACK return code (as mqtt.js reports it) as a string. */
function attempt(url: string, o: IClientOptions): Promise<{ result: string; client: MqttClient }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...o });
    c.once('connect', () => resolve({ result: 'connected', client: c }));
    c.once('error', (e) => {
      c.end(true);
      resolve({ result: String((e as Error & { code?: number }).code ?? e.message), client: c });
    });
  });
}
/** aedes' table of connected clients by id (not in its type declarations). */
const serverClients = () => (rig.broker.aedes as unknown as { clients: Record<string, unknown> }).clients;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: Db;
let rig: Rig;
const statuses: [string, boolean][] = [];
const open: MqttClient[] = [];

beforeAll(async () => {
  db = await seededPglite();
  rig = await startRig(db, { onDeviceStatus: (id, online) => statuses.push([id, online]) });
});
afterAll(async () => {
  for (const c of open) c.end(true);
  await rig?.close();
  await db?.close();
});

describe('client-id takeover', () => {
  it('refuses another device’s client id with CONNACK 2; the holder stays connected and online', async () => {
    const will = { topic: 'dev/d1/status', payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const holder = await attempt(rig.url, { clientId: 'd1', username: 'd1', password: SECRETS.d1, will });
    expect(holder.result).toBe('connected');
    open.push(holder.client);
    await holder.client.publishAsync('dev/d1/status', 'online', { qos: 1, retain: true });
    await waitFor(async () => statuses.some(([id, on]) => id === 'd1' && on));
    const before = statuses.length;

    // d2 holds valid credentials of its own, and tries d1's id (bare, with a suffix, as a prefix of its own).
    for (const clientId of ['d1', 'd1:x', 'd1:sim'])
      expect((await attempt(rig.url, { clientId, username: 'd2', password: SECRETS.d2 })).result).toBe('2');
    // A gateway may publish for its children but never wear a child's client id.
    expect((await attempt(rig.url, { clientId: 's1', username: 'gw1', password: SECRETS.gw1 })).result).toBe('2');

    await sleep(300);
    expect(holder.client.connected).toBe(true);
    expect(Object.keys(serverClients())).toContain('d1');
    // Its Last Will was not published: no "offline" for d1 arrived after the refused attempts.
    expect(statuses.slice(before).filter(([id]) => id === 'd1')).toEqual([]);
    const online = await db.query<{ online: boolean }>(`SELECT online FROM devices WHERE id = 'd1'`);
    expect(online.rows[0].online).toBe(true);
    // And it still publishes.
    await holder.client.publishAsync(
      'dev/d1/telemetry',
      JSON.stringify({ ts: Date.now(), seq: 7, metrics: { t: 1 } }),
      {
        qos: 1,
      },
    );
  });

  it('lets the same principal take its own id over (the only takeover there is)', async () => {
    const first = await attempt(rig.url, { clientId: 'd3:edge', username: 'd3', password: SECRETS.d3 });
    expect(first.result).toBe('connected');
    const closed = new Promise<void>((r) => first.client.once('close', () => r()));
    const second = await attempt(rig.url, { clientId: 'd3:edge', username: 'd3', password: SECRETS.d3 });
    expect(second.result).toBe('connected');
    open.push(second.client);
    await closed;
    expect(second.client.connected).toBe(true);
  });

  it('accepts {id}, {id}:{suffix} and {id}-{suffix}; refuses empty, long, malformed and look-alike ids with CONNACK 2', async () => {
    // `{id}-startup` is what a device's own tools use (mosquitto_pub -i fc-nvr-a-startup in the field cases).
    for (const clientId of ['d4:gw-01_a.b', 'd4-startup', 'd4_1', 'd4.cli']) {
      const ok = await attempt(rig.url, { clientId, username: 'd4', password: SECRETS.d4, clean: true });
      expect([clientId, ok.result]).toEqual([clientId, 'connected']);
      ok.client.end(true);
    }
    const bad = [
      '', // MQTT 3.1.1 lets a server refuse an empty id; here it would be a random one
      'd4:' + 'x'.repeat(65), // suffix over 64
      'd4' + ':x'.repeat(70), // over 128 characters in all
      'd4:a/b', // suffix outside A-Za-z0-9._-
      'd4:', // empty suffix
      'd40', // a longer id that starts with d4
      'd4/x', // a separator outside : - _ .
      'mqttjs_1234abcd', // a library default
    ];
    for (const clientId of bad) {
      const r = await attempt(rig.url, { clientId, username: 'd4', password: SECRETS.d4, clean: true });
      expect([clientId, r.result]).toEqual([clientId, '2']);
    }
  });
});

describe('clientIdAllowed', () => {
  it('refuses an {id}-{suffix} id that is another registered principal, never asks for {id}:{suffix}', async () => {
    const asked: string[] = [];
    const registered = async (id: string) => {
      asked.push(id);
      return ['cam', 'cam-1', 'cam_2'].includes(id);
    };
    expect(await clientIdAllowed('cam', 'cam-1', registered)).toBe(false); // another camera's id
    expect(await clientIdAllowed('cam', 'cam_2', registered)).toBe(false);
    expect(await clientIdAllowed('cam', 'cam-startup', registered)).toBe(true);
    expect(await clientIdAllowed('cam', 'cam:1', registered)).toBe(true);
    expect(await clientIdAllowed('cam', 'cam', registered)).toBe(true);
    expect(asked).toEqual(['cam-1', 'cam_2', 'cam-startup']);
  });
});

describe('keep-alive', () => {
  it('holds keep-alive 0 (and values above the cap) to MAX_KEEPALIVE_S', async () => {
    for (const keepalive of [0, 65535]) {
      const r = await attempt(rig.url, {
        clientId: `gw2:ka${keepalive}`,
        username: 'gw2',
        password: SECRETS.gw2,
        keepalive,
      });
      expect(r.result).toBe('connected');
      const server = serverClients()[`gw2:ka${keepalive}`] as unknown as { _keepaliveInterval: number };
      expect(server._keepaliveInterval).toBe(MAX_KEEPALIVE_S * 1500 + 1);
      r.client.end(true);
    }
  });

  it('disconnects a silent keep-alive-0 client after 1.5 × the cap (cap of 1 s in this broker)', async () => {
    const b = await startEmbeddedBroker({
      port: 0,
      host: '127.0.0.1',
      log: silentLog,
      maxKeepaliveS: 1,
      aedes: { authenticate: (_c, _u, _p, done) => done(null, true) },
    });
    try {
      const sock = netConnect(b.port, '127.0.0.1');
      const closed = new Promise<void>((r) => sock.once('close', () => r()));
      sock.on('error', () => {});
      sock.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: 'silent',
          clean: true,
          keepalive: 0,
        }),
      );
      sock.resume(); // read the CONNACK and the server's FIN
      await closed; // never sends PINGREQ: without the cap this would hang until the test times out
    } finally {
      await b.close();
    }
  });
});

describe('failed-CONNECT rate limits', () => {
  it('per id: after the limit, wrong and even right secrets are refused without running scrypt', async () => {
    const r2 = await startRig(db);
    try {
      const limit = CONNECT_LIMITS.perId.points;
      const start = scrypt.calls;
      const codes: string[] = [];
      for (let i = 0; i < limit + 5; i++)
        codes.push((await attempt(r2.url, { clientId: 'd3', username: 'd3', password: `wrong-${i}` })).result);
      expect(codes.every((c) => c === '5')).toBe(true);
      expect(scrypt.calls - start).toBe(limit);
      // While limited, the right secret (never verified in this process) is refused at once as well.
      expect((await attempt(r2.url, { clientId: 'd3', username: 'd3', password: SECRETS.d3 })).result).toBe('5');
      expect(scrypt.calls - start).toBe(limit);
      // Other ids are not limited by d3's failures (the address is still under its own limit).
      const d2 = await attempt(r2.url, { clientId: 'd2', username: 'd2', password: SECRETS.d2 });
      expect(d2.result).toBe('connected');
      d2.client.end(true);
    } finally {
      await r2.close();
    }
  });

  it('per id: a device verified before in this process stays able to connect while its id is flooded', async () => {
    const r4 = await startRig(db);
    try {
      const first = await attempt(r4.url, { clientId: 'd2', username: 'd2', password: SECRETS.d2 });
      expect(first.result).toBe('connected');
      first.client.end(true);
      for (let i = 0; i < CONNECT_LIMITS.perId.points + 2; i++)
        expect((await attempt(r4.url, { clientId: 'd2', username: 'd2', password: `bad-${i}` })).result).toBe('5');
      const start = scrypt.calls;
      const again = await attempt(r4.url, { clientId: 'd2', username: 'd2', password: SECRETS.d2 });
      expect(again.result).toBe('connected');
      expect(scrypt.calls).toBe(start); // the known pair costs no hash
      again.client.end(true);
    } finally {
      await r4.close();
    }
  });

  it('per address: failures spread over many ids stop costing scrypt at the address limit', async () => {
    const r3 = await startRig(db);
    try {
      const limit = CONNECT_LIMITS.perAddress.points;
      const ids = ['d1', 'd2', 'd4', 'gw2'];
      const each = Math.ceil((limit + 4) / ids.length); // stays under the per-id limit
      expect(each).toBeLessThan(CONNECT_LIMITS.perId.points);
      const start = scrypt.calls;
      let n = 0;
      for (const id of ids)
        for (let i = 0; i < each; i++) {
          expect((await attempt(r3.url, { clientId: id, username: id, password: `nope-${n++}` })).result).toBe('5');
        }
      expect(scrypt.calls - start).toBe(limit);
    } finally {
      await r3.close();
    }
  });
});

describe('protocol versions', () => {
  it('answers an MQTT 5 CONNECT with a CONNACK "unacceptable protocol version" (return code 1)', async () => {
    const sock = netConnect(rig.broker.port, '127.0.0.1');
    sock.on('error', () => {});
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<{ cmd: string; returnCode?: number }>((r) => parser.once('packet', r));
    sock.on('data', (d) => parser.parse(d));
    sock.write(
      mqttPacket.generate(
        {
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 5,
          clientId: 'd1',
          clean: true,
          keepalive: 30,
          username: 'd1',
          password: Buffer.from(SECRETS.d1),
        },
        { protocolVersion: 5 },
      ),
    );
    expect(await connack).toMatchObject({ cmd: 'connack', returnCode: 1 });
    sock.destroy();
  });

  it('an mqtt.js MQTT 5 client is refused at CONNECT', async () => {
    const r = await attempt(rig.url, { protocolVersion: 5, clientId: 'd2', username: 'd2', password: SECRETS.d2 });
    expect(r.result).not.toBe('connected');
  });
});

describe('the simulated fleet', () => {
  it('connects every simulated gateway with its own id ({gateway}:sim), none refused', async () => {
    // The run's seeded data directory (the sample fleet; migrate and seed are then no-ops), else seeded here.
    const dir = await seededDataDir('onegrid-mqtt-sim-');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const sdb = await openPglite(dir);
    await migrate(sdb);
    await seed(sdb, { adminPassword: null, sample: true, demo: false });
    const demoKey = (await getKv<string>(sdb, 'demo_key'))!;
    expect(demoKey).toBeTruthy();
    const srig = await startRig(sdb);
    const sim = await startSimulator({ db: sdb, mqttUrl: srig.url, demoKey, log: silentLog, eventEveryS: 3600 });
    try {
      expect(sim.gatewayCount).toBeGreaterThan(0);
      const table = () => (srig.broker.aedes as unknown as { clients: Record<string, unknown> }).clients;
      // 50-odd scrypt checks at once on a busy machine may outlast a client's first connect timeout; it retries.
      await waitFor(() => Object.keys(table()).length === sim.gatewayCount, 60_000, 200);
      const ids = Object.keys(table());
      expect(ids).toHaveLength(sim.gatewayCount);
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*:sim$/);
    } finally {
      await sim.stop();
      await srig.close();
      await sdb.close();
    }
  }, 120_000);
});
