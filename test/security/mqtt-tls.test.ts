/**
 * Issue 12 item 7 — TLS on the embedded broker. A self-signed certificate made with the openssl CLI for
 * this run; the platform started as a user would (`node bin/onegrid.js start`) with TLS_CERT and TLS_KEY:
 * MQTTS on MQTTS_PORT, HTTPS on PORT and WSS at /mqtt, each used by a real client that trusts only that
 * certificate. Bad TLS settings stop start-up naming the variable (ingest/config.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { ConfigError, loadConfig } from '../../ingest/config.ts';
import { ADMIN_PASSWORD } from '../harness/platform.ts';
import { freePort } from '../harness/ports.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'onegrid-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
let ca: string;

let proc: ChildProcess | null = null;
let out = '';
let port = 0;
let mqttPort = 0;
let mqttsPort = 0;

function httpsJson(
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method,
        ca,
        servername: 'localhost',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function attempt(url: string, o: IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...o });
    c.once('connect', () => {
      c.publishAsync(`dev/${o.username}/telemetry`, JSON.stringify({ ts: Date.now(), seq: 1, metrics: { t: 1 } }), {
        qos: 1,
      }).then(
        // Acknowledged (PUBACK) is the answer; how the socket closes afterwards is not: under load the broker's
        // close after DISCONNECT could reach the client as ECONNRESET before endAsync() settled.
        () => {
          resolve('published');
          c.end(true);
        },
        (e) => resolve(String(e)),
      );
    });
    c.once('error', (e) => {
      c.end(true);
      resolve(`error: ${(e as Error & { code?: string }).code ?? e.message}`);
    });
  });
}

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(certFile, 'utf8');
  [port, mqttPort, mqttsPort] = [await freePort(), await freePort(), await freePort()];
  proc = spawn(process.execPath, ['bin/onegrid.js', 'start', '--no-build', '--no-demo'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      MQTTS_PORT: String(mqttsPort),
      TLS_CERT: certFile,
      TLS_KEY: keyFile,
      DATA_DIR: path.join(dir, 'data'),
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`platform exited ${proc.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`platform not ready:\n${out}`);
    const ok = await httpsJson('GET', '/healthz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 300));
  }
}, 180_000);

afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const done = new Promise((r) => proc!.once('exit', r));
    proc.kill('SIGTERM');
    await done;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS on the embedded broker and the HTTP server', () => {
  let secret = '';

  it('serves HTTPS with the configured certificate (sign-in and device registration over it)', async () => {
    const login = await httpsJson('POST', '/api/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    const r = await httpsJson(
      'POST',
      '/api/devices',
      { id: 'tls-smoke-1', kind: 'smoke', location: [117.2, 39.1] },
      { authorization: `Bearer ${login.body.token}` },
    );
    expect(r.status).toBe(201);
    secret = r.body.secret as string;
  });

  it('accepts MQTT over TLS on MQTTS_PORT (mqtts://, certificate verified)', async () => {
    expect(
      await attempt(`mqtts://localhost:${mqttsPort}`, {
        ca,
        clientId: 'tls-smoke-1',
        username: 'tls-smoke-1',
        password: secret,
      }),
    ).toBe('published');
    // A client that does not trust the certificate is refused by its own TLS check.
    expect(
      await attempt(`mqtts://localhost:${mqttsPort}`, {
        clientId: 'tls-smoke-1',
        username: 'tls-smoke-1',
        password: secret,
      }),
    ).toMatch(/^error: /);
  });

  it('accepts MQTT over WSS at /mqtt on the HTTPS port', async () => {
    expect(
      await attempt(`wss://localhost:${port}/mqtt`, {
        ca,
        clientId: 'tls-smoke-1:ws',
        username: 'tls-smoke-1',
        password: secret,
      }),
    ).toBe('published');
  });

  it('keeps plain MQTT on MQTT_PORT', async () => {
    expect(
      await attempt(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: 'tls-smoke-1',
        username: 'tls-smoke-1',
        password: secret,
      }),
    ).toBe('published');
  });
});

describe('TLS settings', () => {
  const variable = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      if (e instanceof ConfigError) return e.variable;
      throw e;
    }
    return 'accepted';
  };

  it('reads both files and defaults MQTTS_PORT to 8883', () => {
    const c = loadConfig({ TLS_CERT: certFile, TLS_KEY: keyFile });
    expect(c.tls?.cert).toContain('BEGIN CERTIFICATE');
    expect(c.mqttsPort).toBe(8883);
    expect(loadConfig({}).tls).toBeNull();
  });

  it('stops start-up naming the variable: unreadable, missing partner, not PEM', () => {
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a pem');
    expect(variable({ TLS_CERT: path.join(dir, 'nope.pem'), TLS_KEY: keyFile })).toBe('TLS_CERT');
    expect(variable({ TLS_CERT: certFile, TLS_KEY: path.join(dir, 'nope.pem') })).toBe('TLS_KEY');
    expect(variable({ TLS_CERT: certFile })).toBe('TLS_KEY');
    expect(variable({ TLS_KEY: keyFile })).toBe('TLS_CERT');
    expect(variable({ TLS_CERT: junk, TLS_KEY: keyFile })).toBe('TLS_CERT');
    expect(variable({ TLS_CERT: certFile, TLS_KEY: junk })).toBe('TLS_KEY');
    expect(variable({ TLS_CERT: certFile, TLS_KEY: keyFile, MQTTS_PORT: '99999' })).toBe('MQTTS_PORT');
  });

  it('refuses a short MQTT_SERVICE_SECRET', () => {
    expect(variable({ MQTT_SERVICE_SECRET: 'short' })).toBe('MQTT_SERVICE_SECRET');
    expect(variable({ MQTT_SERVICE_SECRET: 'x'.repeat(24) })).toBe('accepted');
  });
});
