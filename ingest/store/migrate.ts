/**
 * Numbered SQL migrations (`migrations/NNN_name.sql`), applied once each, in order, inside a transaction,
 * recorded in `schema_migrations`. Files named `NNN_name.timescale.sql` run only when the `timescaledb`
 * extension is available (pg_available_extensions) — detected, never assumed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface DbFeatures {
  timescale: boolean;
  postgis: boolean;
}

export async function detectFeatures(db: Db): Promise<DbFeatures> {
  if (db.kind === 'pglite') return { timescale: false, postgis: false };
  const r = await db.query<{ name: string }>(
    `SELECT name FROM pg_available_extensions WHERE name IN ('timescaledb', 'postgis')`,
  );
  const names = new Set(r.rows.map((x) => x.name));
  return { timescale: names.has('timescaledb'), postgis: names.has('postgis') };
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
  features: DbFeatures;
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
  return { applied, skipped, features };
}
