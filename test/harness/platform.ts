/**
 * Starts the whole platform as a user would (`node bin/onegrid.js start`), in a child process, with a
 * temporary DATA_DIR and free ports; waits for /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export const ADMIN_PASSWORD = 'test-admin-pw-1';

export interface PlatformHandle {
  url: string;
  port: number;
  mqttPort: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  login(username?: string, password?: string): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startPlatformProcess(
  opts: { env?: Record<string, string>; demo?: boolean; dataDir?: string; timeoutMs?: number } = {},
): Promise<PlatformHandle> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'onegrid-data-'));
  const port = await freePort();
  const mqttPort = await freePort();
  const proc = spawn(process.execPath, ['bin/onegrid.js', 'start', '--no-build', ...(opts.demo ? [] : ['--no-demo'])], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: {
      ...process.env,
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ...(opts.demo ? { DEMO: '1' } : {}),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let exited: number | null | undefined;
  proc.once('exit', (code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`platform exited with ${exited} before ready:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`platform not ready in time:\n${out}`);
    }
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    mqttPort,
    dataDir,
    proc,
    output: () => out,
    async login(username = 'admin', password = ADMIN_PASSWORD) {
      const r = await fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      if (!r.ok) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { token: string }).token;
    },
    async stop(signal = 'SIGTERM') {
      if (exited !== undefined) return exited;
      const done = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await done;
      clearTimeout(t);
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
