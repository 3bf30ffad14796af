/**
 * Configuration: the only module that reads `process.env`. Read once, validated, typed and frozen.
 * A bad value throws ConfigError naming the variable, and start-up stops with that message.
 */
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
}

export const DEFAULTS = {
  port: 3000, // TCP port
  mqttPort: 1883, // TCP port
  dataDir: './data', // directory
  demo: false, // `npm start` sets DEMO=1 unless the user set it
  logLevel: 'info',
  host: '0.0.0.0',
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

/** Parse and validate a configuration from an environment (default: process.env). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? DEFAULTS.logLevel).trim().toLowerCase();
  if (!(LEVELS as readonly string[]).includes(logLevel))
    throw new ConfigError('LOG_LEVEL', `must be one of ${LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  const adminPassword = env.ADMIN_PASSWORD === undefined || env.ADMIN_PASSWORD === '' ? null : env.ADMIN_PASSWORD;
  if (adminPassword !== null && adminPassword.length < 8)
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');
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
  };
  return Object.freeze(cfg);
}
