/**
 * Configuration: the only module that reads `process.env`. Read once, validated, typed and frozen.
 * A bad value throws ConfigError naming the variable, and start-up stops with that message.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';

export interface Config {
  /** HTTP port: wall, API, Open311, /live, /video/*, MQTT over WebSocket at /mqtt. */
  readonly port: number;
  /** Embedded broker's TCP port. */
  readonly mqttPort: number;
  /** External broker (mqtt:// or mqtts://) instead of the embedded one. */
  readonly mqttUrl: string | null;
  /** External PostgreSQL / TimescaleDB instead of PGlite. */
  readonly databaseUrl: string | null;
  /** PGlite files and other local state. */
  readonly dataDir: string;
  /** Password of the `admin` user created on first start; null = generate and print once. */
  readonly adminPassword: string | null;
  /** Run the simulated device fleet. */
  readonly demo: boolean;
  /** pino level. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Host to bind (not in the contract's table; default all interfaces). */
  readonly host: string;
  /**
   * External-broker mode: this ingest process's MQTT client id, stable across restarts (its persistent
   * session carries unacknowledged messages over a crash) and distinct per process. Default: per host.
   */
  readonly ingestId: string | null;
  /**
   * TLS_CERT and TLS_KEY (PEM files, read at start-up): when both are set the embedded broker also listens
   * for MQTT over TLS on `mqttsPort`, and the HTTP server speaks HTTPS (so `/mqtt` is WSS). null = no TLS.
   */
  readonly tls: { readonly cert: string; readonly key: string } | null;
  /** MQTTS_PORT: the embedded broker's TLS port (only with `tls`). */
  readonly mqttsPort: number;
  /**
   * MQTT_SERVICE_SECRET (external-broker mode, ≥ 24 characters): the OneGrid processes log in to the broker
   * as `_onegrid` with it, and the broker's HTTP hooks (`POST /api/mqtt/auth`, `/api/mqtt/acl`) must send it
   * in the `X-OneGrid-Broker-Key` header. null = those hooks answer 404.
   */
  readonly mqttServiceSecret: string | null;
  /** Open311 POST service request: requests per minute per api_key (OPEN311_RATE_KEY, 1–100000). */
  readonly open311RatePerKey: number;
  /** Open311 POST service request: requests per minute per client address (OPEN311_RATE_ADDRESS, 1–100000). */
  readonly open311RatePerAddress: number;
  /** Identical Open311 submissions within this many minutes fold into one request (OPEN311_FOLD_MIN, 0–1440). */
  readonly open311FoldMin: number;
  /** Sign a session out after this many minutes without a request (SESSION_IDLE_MIN, 1–1440). */
  readonly sessionIdleMin: number;
  /** A session ends this many hours after sign-in whatever its use (SESSION_MAX_HOURS, 1–168). */
  readonly sessionMaxHours: number;
  /**
   * Every open `/live` and `/video` socket's session is checked again this often (SESSION_RECHECK_S, 1–3600
   * seconds): an expiry or an end not announced to this process closes the socket within it.
   */
  readonly sessionRecheckS: number;
  /**
   * A session looked up in the database is trusted this long before it is looked up again (SESSION_CACHE_S,
   * 0–3600 seconds; 0 = every request asks the database). A session ended in this process is dropped at
   * once; one ended elsewhere (another instance, the database directly) is seen within this.
   */
  readonly sessionCacheS: number;
  /** Who must sign in with a TOTP second factor (REQUIRE_2FA): `off` (optional for all) or `admin`. */
  readonly require2fa: 'off' | 'admin';
  /** Security audit entries are kept this many days, never fewer than 180 (AUDIT_RETENTION_DAYS). */
  readonly auditRetentionDays: number;
  /** Grid code profile of imports and new drafts (GRID_CODE_PROFILE: gb15 | gb14 | stat20; default gb15). */
  readonly gridCodeProfile: 'gb15' | 'gb14' | 'stat20';
  /** Grids must lie in this box: WGS-84 degrees [minLng, minLat, maxLng, maxLat] (GRID_REGION; default China). */
  readonly gridRegion: readonly [number, number, number, number];
  /**
   * Largest share (0–1) of located devices a grid publish may leave outside every base grid without an
   * explicit confirmation (GRID_PUBLISH_MAX_OUTSIDE; default 0.05). Any open case left outside needs one too.
   */
  readonly gridPublishMaxOutside: number;
  /** Grid import limit: file and unzipped size in MiB (GRID_IMPORT_MAX_MB, default 256). */
  readonly gridImportMaxMb: number;
  /** Grid import limit: features in one file (GRID_IMPORT_MAX_FEATURES, default 100000). */
  readonly gridImportMaxFeatures: number;
  /**
   * Bearer token that may read `/metrics` (METRICS_TOKEN, ≥ 16 characters); null = only an admin session
   * may. `/metrics` is never anonymous.
   */
  readonly metricsToken: string | null;
  /**
   * Origins besides this site's own whose browsers may open `/live`, `/video/*` and `/mqtt` WebSockets
   * (WS_ALLOWED_ORIGINS, comma-separated full origins such as `https://wall.example.gov.cn`).
   */
  readonly wsAllowedOrigins: readonly string[];
  /**
   * Origins the wall may load map tiles, glyphs and sprites from (an intranet tile server named by
   * DATA_DIR/basemap.json), added to the pages' Content-Security-Policy (CSP_EXTRA_ORIGINS, comma-separated).
   * The origin of PUBLIC_BASEMAP_STYLE is added without being listed.
   */
  readonly cspExtraOrigins: readonly string[];
  /**
   * IANA time zone for device times that carry no UTC offset, when the device has no `tz` of its own
   * (TZ; default Asia/Shanghai). A bad zone stops start-up.
   */
  readonly timeZone: string;
}

export const DEFAULTS = {
  port: 3000, // TCP port
  mqttPort: 1883, // TCP port
  mqttsPort: 8883, // TCP port (MQTT over TLS)
  dataDir: './data', // directory
  demo: false, // `npm start` sets DEMO=1 unless the user set it
  logLevel: 'info',
  host: '0.0.0.0',
  open311RatePerKey: 120, // requests per minute (a city app posts for many citizens through one key)
  open311RatePerAddress: 30, // requests per minute
  open311FoldMin: 10, // minutes
  sessionIdleMin: 30, // minutes
  sessionMaxHours: 12, // hours (a command-centre shift)
  sessionRecheckS: 30, // seconds
  sessionCacheS: 60, // seconds
  require2fa: 'off',
  auditRetentionDays: 180, // days; GB/T 22239-2019 level 3 keeps audit records at least six months
  gridCodeProfile: 'gb15',
  gridRegion: [73, 3, 136, 54], // degrees: China, the South China Sea islands included
  gridPublishMaxOutside: 0.05, // share of located devices
  gridImportMaxMb: 256, // MiB
  gridImportMaxFeatures: 100_000,
} as const;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function port(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a port number (0-65535), got "${raw}"`);
  const n = Number(raw);
  if (n < 0 || n > 65535) throw new ConfigError(name, `must be a port number (0-65535), got "${raw}"`);
  return n;
}

function url(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return null;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.join(', ')}), got an unparsable value`);
  }
  if (!protocols.includes(u.protocol.replace(/:$/, '')))
    throw new ConfigError(name, `must use ${protocols.join(' or ')}://, got ${u.protocol}//`);
  return raw.trim();
}

function bool(env: NodeJS.ProcessEnv, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be 1 or 0 (true/false), got "${raw}"`);
}

function ingestId(env: NodeJS.ProcessEnv): string | null {
  const raw = env.INGEST_ID?.trim();
  if (!raw) return null;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw))
    throw new ConfigError('INGEST_ID', `must be 1-64 letters, digits, ".", "_" or "-", got "${raw}"`);
  return raw;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `must be a whole number of ${unit} (${min}-${max}), got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be ${min}-${max} ${unit}, got "${raw}"`);
  return n;
}

function require2fa(env: NodeJS.ProcessEnv): 'off' | 'admin' {
  const raw = env.REQUIRE_2FA?.trim().toLowerCase();
  if (!raw || raw === 'off' || raw === '0' || raw === 'none') return 'off';
  if (raw === 'admin') return 'admin';
  throw new ConfigError('REQUIRE_2FA', `must be "off" or "admin", got "${env.REQUIRE_2FA}"`);
}

function metricsToken(env: NodeJS.ProcessEnv): string | null {
  const raw = env.METRICS_TOKEN?.trim();
  if (!raw) return null;
  if (raw.length < 16 || /\s/.test(raw))
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters without spaces');
  return raw;
}

function origins(env: NodeJS.ProcessEnv, name: string): readonly string[] {
  const raw = env[name]?.trim();
  if (!raw) return Object.freeze([]);
  return Object.freeze(
    raw.split(',').map((o) => {
      const v = o.trim();
      let u: URL | null = null;
      try {
        u = new URL(v);
      } catch {
        /* reported below */
      }
      if (!u || !['http:', 'https:'].includes(u.protocol) || u.origin !== v)
        throw new ConfigError(name, `must list origins such as https://wall.example.org (no path), got "${v}"`);
      return v;
    }),
  );
}

/** TLS_CERT + TLS_KEY: both or neither; each a readable PEM file that parses (certificate, private key). */
function tls(env: NodeJS.ProcessEnv): Config['tls'] {
  const certPath = env.TLS_CERT?.trim();
  const keyPath = env.TLS_KEY?.trim();
  if (!certPath && !keyPath) return null;
  if (!certPath) throw new ConfigError('TLS_CERT', 'must be set when TLS_KEY is set (PEM certificate file)');
  if (!keyPath) throw new ConfigError('TLS_KEY', 'must be set when TLS_CERT is set (PEM private key file)');
  const read = (name: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(name, `must name a readable PEM file, cannot read "${file}": ${(e as Error).message}`);
    }
  };
  const cert = read('TLS_CERT', certPath);
  const key = read('TLS_KEY', keyPath);
  try {
    new X509Certificate(cert);
  } catch {
    throw new ConfigError('TLS_CERT', `"${certPath}" is not a PEM certificate`);
  }
  try {
    createPrivateKey(key);
  } catch {
    throw new ConfigError('TLS_KEY', `"${keyPath}" is not a PEM private key (or it is encrypted)`);
  }
  return Object.freeze({ cert, key });
}

function serviceSecret(env: NodeJS.ProcessEnv): string | null {
  const raw = env.MQTT_SERVICE_SECRET?.trim();
  if (!raw) return null;
  if (raw.length < 24 || /\s/.test(raw))
    throw new ConfigError('MQTT_SERVICE_SECRET', 'must be at least 24 characters without spaces');
  return raw;
}

function gridCodeProfile(env: NodeJS.ProcessEnv): Config['gridCodeProfile'] {
  const raw = env.GRID_CODE_PROFILE?.trim().toLowerCase();
  if (!raw) return DEFAULTS.gridCodeProfile;
  if (raw === 'gb15' || raw === 'gb14' || raw === 'stat20') return raw;
  throw new ConfigError('GRID_CODE_PROFILE', `must be gb15, gb14 or stat20, got "${env.GRID_CODE_PROFILE}"`);
}

function gridRegion(env: NodeJS.ProcessEnv): Config['gridRegion'] {
  const raw = env.GRID_REGION?.trim();
  if (!raw) return DEFAULTS.gridRegion;
  const v = raw.split(',').map((s) => Number(s.trim()));
  if (
    v.length !== 4 ||
    v.some((n) => !Number.isFinite(n)) ||
    v[0] < -180 ||
    v[2] > 180 ||
    v[1] < -90 ||
    v[3] > 90 ||
    v[0] >= v[2] ||
    v[1] >= v[3]
  )
    throw new ConfigError('GRID_REGION', `must be minLng,minLat,maxLng,maxLat in degrees, got "${raw}"`);
  return [v[0], v[1], v[2], v[3]];
}

function share(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(name, `must be a share from 0 to 1, got "${raw}"`);
  return n;
}

/** Parse and validate a configuration from an environment (default: process.env). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? DEFAULTS.logLevel).trim().toLowerCase();
  if (!(LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const adminPassword = env.ADMIN_PASSWORD === undefined || env.ADMIN_PASSWORD === '' ? null : env.ADMIN_PASSWORD;
  // The password policy's length floor (ingest/auth/password.ts); the operator chose it, so no forced change.
  if (adminPassword !== null && ([...adminPassword].length < 10 || adminPassword.trim() === ''))
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 10 characters (not only spaces)');
  const dataDir = env.DATA_DIR?.trim() || DEFAULTS.dataDir;
  const cfg: Config = {
    port: port(env, 'PORT', DEFAULTS.port),
    mqttPort: port(env, 'MQTT_PORT', DEFAULTS.mqttPort),
    mqttUrl: url(env, 'MQTT_URL', ['mqtt', 'mqtts', 'ws', 'wss']),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres', 'postgresql']),
    dataDir,
    adminPassword,
    demo: bool(env, 'DEMO', DEFAULTS.demo),
    logLevel: logLevel as Config['logLevel'],
    host: env.HOST?.trim() || DEFAULTS.host,
    ingestId: ingestId(env),
    tls: tls(env),
    mqttsPort: port(env, 'MQTTS_PORT', DEFAULTS.mqttsPort),
    mqttServiceSecret: serviceSecret(env),
    open311RatePerKey: int(env, 'OPEN311_RATE_KEY', DEFAULTS.open311RatePerKey, 1, 100_000, 'requests per minute'),
    open311RatePerAddress: int(
      env,
      'OPEN311_RATE_ADDRESS',
      DEFAULTS.open311RatePerAddress,
      1,
      100_000,
      'requests per minute',
    ),
    open311FoldMin: int(env, 'OPEN311_FOLD_MIN', DEFAULTS.open311FoldMin, 0, 1440, 'minutes'),
    sessionIdleMin: int(env, 'SESSION_IDLE_MIN', DEFAULTS.sessionIdleMin, 1, 1440, 'minutes'),
    sessionMaxHours: int(env, 'SESSION_MAX_HOURS', DEFAULTS.sessionMaxHours, 1, 168, 'hours'),
    sessionRecheckS: int(env, 'SESSION_RECHECK_S', DEFAULTS.sessionRecheckS, 1, 3600, 'seconds'),
    sessionCacheS: int(env, 'SESSION_CACHE_S', DEFAULTS.sessionCacheS, 0, 3600, 'seconds'),
    require2fa: require2fa(env),
    auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', DEFAULTS.auditRetentionDays, 180, 36500, 'days'),
    gridCodeProfile: gridCodeProfile(env),
    gridRegion: gridRegion(env),
    gridPublishMaxOutside: share(env, 'GRID_PUBLISH_MAX_OUTSIDE', DEFAULTS.gridPublishMaxOutside),
    gridImportMaxMb: int(env, 'GRID_IMPORT_MAX_MB', DEFAULTS.gridImportMaxMb, 1, 4096, 'MiB'),
    gridImportMaxFeatures: int(
      env,
      'GRID_IMPORT_MAX_FEATURES',
      DEFAULTS.gridImportMaxFeatures,
      1,
      10_000_000,
      'features',
    ),
    metricsToken: metricsToken(env),
    wsAllowedOrigins: origins(env, 'WS_ALLOWED_ORIGINS'),
    cspExtraOrigins: origins(env, 'CSP_EXTRA_ORIGINS'),
    timeZone: timeZone(env),
  };
  return Object.freeze(cfg);
}

/** TZ: an IANA zone (Asia/Shanghai, UTC …); POSIX strings such as `CST-8` are refused by name. */
function timeZone(env: NodeJS.ProcessEnv): string {
  const raw = (env.TZ ?? '').trim();
  if (raw === '') return 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: raw });
  } catch {
    throw new ConfigError('TZ', `must be an IANA time zone such as Asia/Shanghai, got "${raw}"`);
  }
  return raw;
}
