/**
 * `npx onegrid <command>`: start, device add, user add, grids import, grids export. `--help` on each;
 * `--json` prints machine-readable output.
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { secureDataDir } from './store/datadir.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { openDb, type Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { seed } from './seed.ts';
import { GridService } from './grids/service.ts';
import { registerDevice, validateDeviceInput } from './registry.ts';
import { Accounts, type Level } from './auth/accounts.ts';
import type { Role } from './store/users.ts';
import { BUILD_HANDLER, ROOT, startPlatform } from './platform.ts';
import { DomainError, isDomainError } from '../core/errors.ts';

const HELP: Record<string, string> = {
  main: `onegrid — grid-based city governance command platform (一网统管)

Usage: onegrid <command> [options]

Commands:
  start                 run the whole platform (web, API, broker, ingest; simulated fleet unless --no-demo)
  device add            register a device or gateway; prints its MQTT secret once
  user add              create a user; prints a generated password once
  grids import FILE     import a grid set (GeoJSON, zipped Shapefile, KML) as a new draft or published version
  grids export          export the published grids (GeoJSON, KML, Shapefile zip)
  grids list            list the grid versions (published, drafts, archived)
  grids publish VERSION publish a draft version (re-joins devices and open cases)
  grids diff A B        grids added, removed and changed from version A to B

Configuration comes from the environment: PORT, MQTT_PORT, MQTT_URL, DATABASE_URL, DATA_DIR,
ADMIN_PASSWORD, DEMO, LOG_LEVEL. Run 'onegrid <command> --help' for a command's options.`,
  start: `onegrid start [--no-demo] [--no-build]

Builds the web app if it is not built (or its sources changed), migrates the database, loads the sample
district on first start, and serves the wall at http://localhost:$PORT (default 3000).
  --no-demo    do not run the simulated device fleet (same as DEMO=0)
  --no-build   never build the web app (fail if it is missing)`,
  'device add': `onegrid device add --id ID --kind KIND --lng LNG --lat LAT [--name N] [--gateway GW]
                  [--rtsp URL] [--source eagle-eye|skynet|community] [--interval S] [--allow-outside] [--json]

Kinds: camera, smoke, heat, gas, water_level, manhole, sensor, gateway. Prints the device's MQTT
password (secret) once: it is stored hashed and cannot be shown again. A location outside every grid
of the published version (a typo, or lat and lng swapped) is refused unless --allow-outside is given:
such a device belongs to no grid, so no scoped user sees it and its alarms raise cases nobody's scope holds.`,
  'user add': `onegrid user add --username U --role ROLE [--name N] [--scope GRIDCODE] [--department D]
                [--level community|street|district] [--password P] [--json]

Roles: admin, analyst, commander, dispatcher, department, gridworker, viewer. Every role except admin
needs a scope: --scope (a grid code of the published version) and/or --department (an existing one);
--level must be the scope grid's level (taken from the grid when omitted). Without --password one is
generated and printed once. Passwords: at least 10 characters, not containing the username, not a common
or easily guessed password; the user must change it at first sign-in. While the platform runs on an
embedded database, use POST /api/users (or the admin page /admin/users) instead.`,
  'grids import': `onegrid grids import FILE [--format geojson|shp|kml|kmz] [--crs wgs84|gcj02|bd09|EPSG:n]
                    [--encoding utf-8|gbk|936…] [--code-field F] [--name-field F] [--level-field F]
                    [--profile gb15|gb14|stat20] [--publish [--force]] [--label L] [--json]

The CRS comes from --crs, else the Shapefile's .prj or the GeoJSON "crs" member; a file that declares none
must be in WGS-84 degrees inside GRID_REGION (else it is refused, saying why). --crs takes EPSG codes such as
4490 (CGCS2000), 4527 (Gauss-Krüger zone 39), 4548 (GK CM 117°E), 3857. Text encoding comes from --encoding,
else the .cpg, the DBF code page or the KML prolog (GBK is recognised). The code profile defaults to
GRID_CODE_PROFILE (gb15). Validates topology first and refuses a broken set with the report. The first
import into an empty DATA_DIR does not load the sample district.`,
  'grids export': `onegrid grids export [--format geojson|kml|shp] [--out FILE] [--level 1..4] [--encoding utf-8|gbk] [--version N]

A Shapefile zip carries a .cpg and the DBF code page: UTF-8 by default, GBK for older desktop GIS.`,
  'grids list': `onegrid grids list [--json]`,
  'grids publish': `onegrid grids publish VERSION [--force] [--json]

Refused when the set has no base grids, or would leave more than GRID_PUBLISH_MAX_OUTSIDE of the devices
(or any open case) outside every base grid; --force publishes anyway and prints the warning.`,
  'grids diff': `onegrid grids diff A B [--json]`,
};

function out(json: boolean, obj: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(obj) + '\n' : text + '\n');
}

type Options = Record<string, { type: 'string' } | { type: 'boolean' }>;

/**
 * parseArgs with `--help` and `--json` on every command. Its precise result type does not survive being
 * passed through a helper, so values are typed loosely here and checked where they are used.
 */
function parse(args: string[], options: Options): { values: Record<string, any>; positionals: string[] } {
  return parseArgs({
    args,
    options: { ...options, help: { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
}

/** PGlite is single-process: while a platform runs on DATA_DIR, other commands must not open it. */
function lockPath(cfg: Config): string {
  return path.resolve(cfg.dataDir, 'onegrid.lock');
}

function assertNotRunning(cfg: Config): void {
  if (cfg.databaseUrl) return;
  const lock = lockPath(cfg);
  if (!existsSync(lock)) return;
  const pid = Number(readFileSync(lock, 'utf8'));
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale lock
  }
  throw new Error(
    `the platform (pid ${pid}) is running on ${cfg.dataDir}: the embedded database is single-process. ` +
      `Stop it first, or use the HTTP API (POST /api/devices, POST /api/users) of the running platform.`,
  );
}

/** `sample: false`: a first use of DATA_DIR does not load the sample district (see seed). */
async function withDb<T>(cfg: Config, fn: (db: Db) => Promise<T>, opts: { sample?: boolean } = {}): Promise<T> {
  assertNotRunning(cfg);
  const db = await openDb({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir });
  try {
    await migrate(db);
    // The first use of a DATA_DIR loads the sample district, whichever command comes first.
    const seeded = await seed(db, { adminPassword: cfg.adminPassword, sample: opts.sample, demo: cfg.demo });
    if (seeded.adminPassword)
      process.stderr.write(`admin password (shown once, change it at first sign-in): ${seeded.adminPassword}\n`);
    for (const u of seeded.samplePasswords)
      process.stderr.write(`sample user ${u.username} password (shown once): ${u.password}\n`);
    return await fn(db);
  } finally {
    await db.close();
  }
}

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}

/** Build the web app when build/ is missing or older than web/, core/ or the Svelte/Vite config. */
export function buildIfNeeded(log: (m: string) => void): void {
  const built = existsSync(BUILD_HANDLER) ? statSync(BUILD_HANDLER).mtimeMs : 0;
  const sources = Math.max(
    newestMtime(path.join(ROOT, 'web')),
    newestMtime(path.join(ROOT, 'core')),
    statSync(path.join(ROOT, 'svelte.config.js')).mtimeMs,
    statSync(path.join(ROOT, 'vite.config.ts')).mtimeMs,
  );
  if (built > sources) return;
  log(built ? 'web app sources changed: rebuilding…' : 'building the web app (first start)…');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) throw new Error('web app build failed (see above)');
}

async function cmdStart(args: string[]): Promise<number> {
  const { values } = parse(args, { 'no-demo': { type: 'boolean' }, 'no-build': { type: 'boolean' } });
  if (values.help) return (out(false, null, HELP.start), 0);
  const env = { ...process.env };
  if (values['no-demo']) env.DEMO = '0';
  else if (env.DEMO === undefined || env.DEMO === '') env.DEMO = '1';
  const cfg = loadConfig(env);
  const log = createLogger(cfg.logLevel);
  assertNotRunning(cfg);
  if (!values['no-build']) buildIfNeeded((m) => log.info(m));
  if (!cfg.databaseUrl) {
    secureDataDir(cfg.dataDir); // 0700, files 0600 (ingest/store/datadir.ts)
    writeFileSync(lockPath(cfg), String(process.pid), { mode: 0o600 });
  }
  const t0 = Date.now();
  const platform = await startPlatform(cfg, { log });
  const base = `http://localhost:${platform.httpPort}`;
  const lines = [
    '',
    `  OneGrid 一网统管 is running (${Date.now() - t0} ms)`,
    `  Wall:    ${base}/`,
    `  API:     ${base}/api/openapi.json`,
    `  MQTT:    ${platform.broker ? `mqtt://localhost:${platform.broker.port}  and  ws://localhost:${platform.httpPort}/mqtt` : 'external broker'}`,
    `  Data:    ${cfg.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : path.resolve(cfg.dataDir)}`,
    cfg.demo ? '  Demo:    SIMULATED fleet publishing (DEMO=0 or --no-demo to turn off)' : '  Demo:    off',
  ];
  if (platform.seedResult.adminPassword)
    lines.push('', `  admin password (shown once, change it at first sign-in): ${platform.seedResult.adminPassword}`);
  if (platform.seedResult.samplePasswords.length) {
    lines.push('', '  Sample users of the synthetic district, each with its own password (shown once):');
    for (const u of platform.seedResult.samplePasswords)
      lines.push(`    sample user ${u.username} password: ${u.password}`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');

  let signalled = false;
  const shutdown = (sig: string) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal: sig }, 'shutting down');
    platform
      .stop()
      .then(() => {
        if (!cfg.databaseUrl) {
          try {
            unlinkSync(lockPath(cfg));
          } catch {
            /* already gone */
          }
        }
        process.exit(0);
      })
      .catch((e) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await new Promise(() => {}); // run until a signal
  return 0;
}

async function cmdDeviceAdd(args: string[]): Promise<number> {
  const { values } = parse(args, {
    id: { type: 'string' },
    kind: { type: 'string' },
    lng: { type: 'string' },
    lat: { type: 'string' },
    name: { type: 'string' },
    gateway: { type: 'string' },
    rtsp: { type: 'string' },
    source: { type: 'string' },
    interval: { type: 'string' },
    'allow-outside': { type: 'boolean' },
  });
  if (values.help) return (out(false, null, HELP['device add']), 0);
  const cfg = loadConfig();
  const input = {
    id: values.id,
    kind: values.kind,
    name: values.name,
    gateway: values.gateway,
    rtsp: values.rtsp,
    source: values.source,
    intervalS: values.interval === undefined ? undefined : Number(values.interval),
    location: [Number(values.lng), Number(values.lat)],
  };
  const r = await withDb(cfg, async (db) => {
    const grids = new GridService(db);
    await grids.load();
    // Validated first, so that a bad kind or coordinate is named as such, not as "outside every grid".
    const [lng, lat] = validateDeviceInput(input).location;
    if (!values['allow-outside'] && !grids.join(lng, lat).grid)
      throw new DomainError(
        'invalid_grid',
        `location [${lng}, ${lat}] ([lng, lat], WGS-84) lies outside every grid of the published version; ` +
          'check the coordinates (lng first), or pass --allow-outside to register it anyway',
        { field: 'location' },
      );
    return registerDevice(db, grids, input);
  });
  out(
    !!values.json,
    { ...r.device, secret: r.secret },
    `device ${r.device.id} (${r.device.kind}) registered in grid ${r.device.grid ?? '(outside every grid)'}\n` +
      `MQTT username: ${r.device.id}\nMQTT password: ${r.secret}\n(shown once: it is stored hashed)`,
  );
  return 0;
}

async function cmdUserAdd(args: string[]): Promise<number> {
  const { values } = parse(args, {
    username: { type: 'string' },
    role: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    department: { type: 'string' },
    level: { type: 'string' },
    password: { type: 'string' },
  });
  if (values.help) return (out(false, null, HELP['user add']), 0);
  const cfg = loadConfig();
  // The same rules as POST /api/users (ingest/auth/accounts.ts): scope names an existing published grid or
  // department, level matches the grid, the password policy; refusals are coded errors, never raw SQL ones.
  const r = await withDb(cfg, (db) =>
    new Accounts(db, null).create(
      {
        username: values.username ?? '',
        role: values.role as Role,
        name: values.name,
        scopeGrid: values.scope ?? null,
        scopeDepartment: values.department ?? null,
        level: (values.level as Level | undefined) ?? null,
        password: values.password,
      },
      { actor: 'cli' },
    ),
  );
  out(
    !!values.json,
    {
      username: r.user.username,
      role: r.user.role,
      scope: { grid: r.user.scopeGrid, department: r.user.scopeDepartment },
      level: r.user.level,
      mustChangePassword: true,
      password: r.password ?? undefined,
    },
    `user ${r.user.username} (${r.user.role}) created; the password must be changed at first sign-in` +
      (r.password ? `\npassword (shown once): ${r.password}` : ''),
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [a, b, ...rest] = argv;
  try {
    if (!a || a === '--help' || a === '-h' || a === 'help') return (out(false, null, HELP.main), 0);
    if (a === 'start') return await cmdStart([b, ...rest].filter((x) => x !== undefined));
    if (a === 'device' && b === 'add') return await cmdDeviceAdd(rest);
    if (a === 'user' && b === 'add') return await cmdUserAdd(rest);
    if (a === 'grids' && ['import', 'export', 'list', 'publish', 'diff'].includes(b)) {
      const { gridsCommand } = await import('./grids/cli.ts');
      return await gridsCommand(b as 'import', rest, { loadConfig, withDb, help: HELP[`grids ${b}`], out });
    }
    process.stderr.write(`onegrid: unknown command "${argv.join(' ')}"\n\n${HELP.main}\n`);
    return 2;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`onegrid: ${e.message}\n`);
      return 78; // EX_CONFIG
    }
    if (isDomainError(e)) {
      process.stderr.write(`onegrid: ${e.code}: ${e.message}\n`);
      if (e.details) process.stderr.write(JSON.stringify(e.details, null, 2) + '\n');
      return 1;
    }
    process.stderr.write(`onegrid: ${(e as Error).message}\n`);
    return 1;
  }
}
