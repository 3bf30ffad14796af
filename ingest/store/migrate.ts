/**
 * Numbered SQL migrations (`migrations/NNN_name.sql`), applied once each, in order, inside a transaction,
 * recorded in `schema_migrations`. Files named `NNN_name.timescale.sql` run only when TimescaleDB can
 * actually be used here — decided by what works, not by what is installed (see `detectFeatures`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * What the platform decided about one optional PostgreSQL extension, and why.
 * - `enabled`: created in this database already and usable;
 * - `usable`: not created yet, but `CREATE EXTENSION` succeeds (probed in a rolled-back transaction);
 * - `not installed`: the server has no such extension (`pg_available_extensions`);
 * - `available, not preloaded`: installed, but its library must be in `shared_preload_libraries` (TimescaleDB);
 * - `available, not permitted`: installed, but this database user may not create it (SQLSTATE 42501);
 * - `available, failed`: installed, but `CREATE EXTENSION` failed for another reason (in `reason`);
 * - `not applicable`: PGlite, which has neither.
 */
export type ExtensionState =
  | 'enabled'
  | 'usable'
  | 'not installed'
  | 'available, not preloaded'
  | 'available, not permitted'
  | 'available, failed'
  | 'not applicable';

export interface ExtensionDecision {
  /** True when the platform uses the extension (state `enabled` or `usable`). */
  use: boolean;
  state: ExtensionState;
  /** The server's own words when a probe failed. */
  reason?: string;
  /** What an operator does to have it, when it is installed but unusable. */
  fix?: string;
}

export interface DbFeatures {
  timescale: boolean;
  postgis: boolean;
  /** Every optional extension's decision, by extension name (shown in `/healthz`). */
  extensions: Record<string, ExtensionDecision>;
}

/** Optional extensions: the platform runs without them and uses them when they work. */
export const OPTIONAL_EXTENSIONS = [
  {
    name: 'timescaledb',
    // TimescaleDB refuses CREATE EXTENSION (and any use) unless its library was loaded at server start.
    preload: true,
    why: 'hypertables, compression, retention and continuous aggregates for readings and events',
  },
  { name: 'postgis', preload: false, why: 'spatial SQL for operators and the PostGIS join reference' },
] as const;

class ProbeDone extends Error {}

function fixFor(name: string, state: ExtensionState): string | undefined {
  if (state === 'available, not preloaded')
    return `add shared_preload_libraries = '${name}' to postgresql.conf (or run timescaledb-tune) and restart PostgreSQL`;
  if (state === 'available, not permitted')
    return `run CREATE EXTENSION ${name} once as a superuser in this database, or connect as a user allowed to create it`;
  if (state === 'available, failed') return `run CREATE EXTENSION ${name} by hand to see the server's error`;
  return undefined;
}

/**
 * Decide, for every optional extension, whether it can be used on this server by this user. Reads
 * `pg_available_extensions`, `pg_extension` and `shared_preload_libraries`, then tries `CREATE EXTENSION`
 * inside a savepoint of a transaction that is always rolled back, so the probe changes nothing.
 */
export async function detectFeatures(db: Db): Promise<DbFeatures> {
  const extensions: Record<string, ExtensionDecision> = {};
  if (db.kind === 'pglite') {
    for (const e of OPTIONAL_EXTENSIONS) extensions[e.name] = { use: false, state: 'not applicable' };
    return { timescale: false, postgis: false, extensions };
  }
  const names = OPTIONAL_EXTENSIONS.map((e) => e.name);
  const avail = await db.query<{ name: string; created: boolean }>(
    `SELECT a.name, (e.extname IS NOT NULL) AS created
       FROM pg_available_extensions a LEFT JOIN pg_extension e ON e.extname = a.name
      WHERE a.name = ANY($1::text[])`,
    [names],
  );
  const found = new Map(avail.rows.map((r) => [r.name, r.created]));
  // shared_preload_libraries is readable only by superusers and pg_read_all_settings; when it cannot be read,
  // the CREATE EXTENSION probe below tells (TimescaleDB's error says it must be preloaded).
  const preloaded = await db
    .query<{ v: string | null }>(`SELECT current_setting('shared_preload_libraries', true) AS v`)
    .then(
      (r) =>
        new Set(
          (r.rows[0]?.v ?? '')
            .split(',')
            .map((x) => x.trim().replace(/^"|"$/g, ''))
            .filter(Boolean),
        ),
      () => null,
    );
  const probe: { name: string; created: boolean }[] = [];
  for (const e of OPTIONAL_EXTENSIONS) {
    if (!found.has(e.name)) extensions[e.name] = { use: false, state: 'not installed' };
    else if (e.preload && preloaded && !preloaded.has(e.name))
      extensions[e.name] = { use: false, state: 'available, not preloaded' };
    else probe.push({ name: e.name, created: found.get(e.name)! });
  }
  if (probe.length)
    await db
      .tx(async (q: Queryable) => {
        for (const p of probe) {
          await q.exec(`SAVEPOINT probe_ext`);
          try {
            await q.exec(`CREATE EXTENSION IF NOT EXISTS ${p.name}`);
            extensions[p.name] = { use: true, state: p.created ? 'enabled' : 'usable' };
          } catch (e) {
            const err = e as { code?: string; message?: string };
            const reason = String(err.message ?? e);
            const state: ExtensionState =
              err.code === '42501' || /permission denied|must be (superuser|owner)/i.test(reason)
                ? 'available, not permitted'
                : /preload/i.test(reason)
                  ? 'available, not preloaded'
                  : 'available, failed';
            extensions[p.name] = { use: false, state, reason };
          }
          await q.exec(`ROLLBACK TO SAVEPOINT probe_ext`);
        }
        throw new ProbeDone(); // roll the probe back: nothing is created by deciding
      })
      .catch((e) => {
        if (!(e instanceof ProbeDone)) throw e;
      });
  for (const [name, d] of Object.entries(extensions)) {
    const fix = fixFor(name, d.state);
    if (fix) d.fix = fix;
  }
  return {
    timescale: extensions.timescaledb?.use ?? false,
    postgis: extensions.postgis?.use ?? false,
    extensions,
  };
}

/** One warning per extension that is installed but cannot be used, naming the fix; none when all is well. */
export function extensionWarnings(f: DbFeatures): string[] {
  const out: string[] = [];
  for (const e of OPTIONAL_EXTENSIONS) {
    const d = f.extensions[e.name];
    if (!d || !d.fix) continue;
    out.push(
      `${e.name} is installed but ${d.state.replace('available, ', '')}${d.reason ? ` (${d.reason})` : ''}: ` +
        `running without it (${e.why}). To use it: ${d.fix}`,
    );
  }
  return out;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
  features: DbFeatures;
  /** Optional extensions that are installed but unusable, each with its fix (log them once). */
  warnings: string[];
}

export async function migrate(db: Db): Promise<MigrationReport> {
  const features = await detectFeatures(db);
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  // Several processes may start at once against one PostgreSQL: serialise migrations.
  const files = readdirSync(DIR)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const id = file.replace(/\.sql$/, '');
    if (file.endsWith('.timescale.sql') && !features.timescale) {
      skipped.push(id);
      continue;
    }
    const sql = readFileSync(path.join(DIR, file), 'utf8');
    const did = await db.tx(async (q) => {
      if (db.kind === 'postgres') await q.query(`SELECT pg_advisory_xact_lock(727001)`);
      const seen = await q.query(`SELECT 1 FROM schema_migrations WHERE id = $1`, [id]);
      if (seen.rows.length) return false;
      await q.exec(sql);
      await q.query(`INSERT INTO schema_migrations (id) VALUES ($1)`, [id]);
      return true;
    });
    if (did) applied.push(id);
  }
  return { applied, skipped, features, warnings: extensionWarnings(features) };
}
