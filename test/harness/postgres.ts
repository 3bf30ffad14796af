/**
 * A throwaway PostgreSQL 15 cluster with PostGIS for integration tests: initdb into a temp directory as
 * the `postgres` OS user (PostgreSQL refuses to run as root), a free port on 127.0.0.1, trust auth.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';
import { oncePerRun } from './run-once.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresHandle {
  url: string;
  port: number;
  dir: string;
  /** Stops the cluster and removes it; `keepData`: a clean (fast) shutdown, the files left for copying. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

function asPostgres(cmd: string, args: string[]): string {
  const isRoot = process.getuid?.() === 0;
  return isRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function initdb(data: string): void {
  asPostgres(`${BIN}/initdb`, [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--locale=C.UTF-8',
  ]);
}

/**
 * The run's freshly initdb'd data directory (never started), made once under a lock in the run's folder
 * (ONEGRID_TEST_RUN_DIR, test/harness/global-setup.ts) and copied by every new cluster instead of its own
 * initdb (seconds each on a loaded 2-core machine); null outside a test run or when making it failed.
 */
async function initdbTemplate(): Promise<string | null> {
  const run = await oncePerRun(
    'pg-initdb',
    (run) => {
      const parent = path.join(run, 'pg-initdb');
      chmodSync(run, 0o711); // the postgres user reaches its folder inside (mkdtemp made the run's 0700)
      mkdirSync(parent, { mode: 0o777 });
      chmodSync(parent, 0o777);
      if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', parent]);
      initdb(path.join(parent, 'data'));
    },
    { pollMs: 100 },
  );
  return run ? path.join(run, 'pg-initdb', 'data') : null;
}

/**
 * `copyOf`: the data directory of a cluster stopped cleanly (`stop({ keepData: true })`) to start a copy of,
 * instead of a new initdb: what it holds (a seeded database, say) comes with it.
 */
export async function startPostgres(opts: { postgis?: boolean; copyOf?: string } = {}): Promise<PostgresHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'onegrid-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const copyOf = opts.copyOf ?? (await initdbTemplate());
  if (copyOf) {
    // As the files' owner (cp -a keeps it); the copy's include line then points at this cluster's settings.
    execFileSync('cp', ['-a', copyOf, data]);
    const conf = path.join(data, 'postgresql.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^include '.*\/extra\.conf'$/gm, ''));
  } else initdb(data);
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'extra.conf'),
    `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\nshared_buffers = 256MB\n`,
  );
  if (isRoot) execFileSync('chown', ['postgres:postgres', path.join(dir, 'extra.conf')]);
  execFileSync('sh', ['-c', `echo "include '${dir}/extra.conf'" >> ${data}/postgresql.conf`]);
  asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  if (opts.postgis !== false && !opts.copyOf) {
    asPostgres('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-qc',
      'CREATE EXTENSION IF NOT EXISTS postgis',
    ]);
  }
  let stopped = false;
  return {
    url,
    port,
    dir,
    async stop(o = {}) {
      if (stopped) return;
      stopped = true;
      const mode = o.keepData ? 'fast' : 'immediate';
      spawnSync(
        isRoot ? 'runuser' : `${BIN}/pg_ctl`,
        isRoot
          ? ['-u', 'postgres', '--', `${BIN}/pg_ctl`, '-D', data, '-m', mode, '-w', 'stop']
          : ['-D', data, '-m', mode, '-w', 'stop'],
        { stdio: 'ignore' },
      );
      if (!o.keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database in a running cluster (tests sharing one cluster stay apart). */
export function createDatabase(h: PostgresHandle, name: string): string {
  asPostgres('psql', ['-h', '127.0.0.1', '-p', String(h.port), '-U', 'postgres', '-qc', `CREATE DATABASE "${name}"`]);
  asPostgres('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(h.port),
    '-U',
    'postgres',
    '-d',
    name,
    '-qc',
    'CREATE EXTENSION IF NOT EXISTS postgis',
  ]);
  return `postgres://postgres@127.0.0.1:${h.port}/${name}`;
}
