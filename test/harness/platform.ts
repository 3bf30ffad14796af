/**
 * Starts the whole platform as a user would (`node bin/onegrid.js start`), in a child process, with a
 * temporary DATA_DIR and free ports; waits for /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { oncePerRun } from './run-once.ts';

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

/**
 * A PGlite DATA_DIR already migrated and seeded (sample district, devices, admin with ADMIN_PASSWORD, no demo),
 * made once per test run by the first platform that needs it and copied for the others: seeding costs a
 * platform start ~15 s on a 2-core machine (scrypt for every gateway secret, 1,126 grids, 2,810 devices).
 * The run's folder comes from vitest's global setup; outside a test run (bench) there is none and every
 * platform starts cold. Workers build it under a lock (an atomic mkdir); a failure falls back to cold starts.
 */
async function seededTemplate(): Promise<string | null> {
  const run = await oncePerRun(
    'template',
    async (run) => {
      const dir = path.join(run, 'template');
      mkdirSync(dir);
      // The PGlite cluster made here, where test/harness/pglite-template.ts copies an initialised one (initdb
      // in the platform process would cost 5-15 s more); the platform then migrates and seeds it.
      const { openPglite } = await import('../../ingest/store/db.ts');
      await (await openPglite(dir)).close();
      const p = await startPlatformProcess({ dataDir: dir, template: false, timeoutMs: 180_000 });
      const code = await p.stop('SIGTERM');
      if (code !== 0) throw new Error(`template platform exited with ${code}`);
    },
    { waitMs: 240_000, pollMs: 250 },
  );
  return run ? path.join(run, 'template') : null;
}

/**
 * A new DATA_DIR holding a copy of the run's seeded template (see seededTemplate: migrated, sample district
 * and devices, admin with ADMIN_PASSWORD), for tests that write into a data directory before the platform
 * or the CLI first uses it (their own users, say) or that only need a seeded one; an empty directory when
 * there is no template (outside a vitest run, or its making failed), which the platform or CLI then seeds.
 * Removing it is the caller's.
 */
export async function seededDataDir(prefix = 'onegrid-data-'): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const tpl = await seededTemplate();
  if (tpl) cpSync(tpl, dataDir, { recursive: true });
  return dataDir;
}

export async function startPlatformProcess(
  opts: {
    env?: Record<string, string>;
    demo?: boolean;
    dataDir?: string;
    timeoutMs?: number;
    /** false: a truly first start (migrate and seed here) even when a seeded template could be copied. */
    template?: boolean;
  } = {},
): Promise<PlatformHandle> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'onegrid-data-'));
  // Start from the run's seeded template when this start would only repeat its seeding: an empty PGlite
  // DATA_DIR, the harness's admin password. A demo start too: the template has no sample users (it was not a
  // demo start), so this start creates them and prints their passwords as a first demo start does.
  if (
    opts.template !== false &&
    !opts.env?.DATABASE_URL &&
    !opts.env?.ADMIN_PASSWORD &&
    readdirSync(dataDir).length === 0
  ) {
    const tpl = await seededTemplate();
    if (tpl) cpSync(tpl, dataDir, { recursive: true });
  }
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
      const post = () =>
        fetch(`${url}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
      // A kept-alive connection from the /healthz polling may be closed by the server just as this POST reuses
      // it (ECONNRESET); fetch retries only idempotent requests, so a sign-in is sent again once, on a new one.
      const r = await post().catch((e: unknown) => {
        if ((e as { cause?: { code?: string } })?.cause?.code !== 'ECONNRESET') throw e;
        return post();
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
