/**
 * Vitest setup file (runs in every test file's worker before the file): a PGlite cluster created in this
 * process starts from a copy of a freshly initialised one, a tarball made once per run, instead of running
 * initdb itself — 5-15 s of a loaded 2-core machine each time, for the same empty cluster (PGlite's own
 * `clone()` is this copy). Only in-memory databases (`PGlite.create()`) and empty data directories
 * (`PGlite.create(dir)`, no PG_VERSION there) are affected, and only within a vitest run with global setup's
 * run folder (ONEGRID_TEST_RUN_DIR); a failure to make the tarball falls back to initdb. Child processes (a
 * platform start, a spawned CLI) are not affected: test/harness/platform.ts copies whole DATA_DIRs for those.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { oncePerRun } from './run-once.ts';

type Create = typeof PGlite.create;
const create: Create = PGlite.create.bind(PGlite);
let loaded: Promise<Blob | null> | null = null;

/** The run's tarball of an empty, initialised cluster: made by the first worker that needs it, under a lock. */
async function emptyCluster(): Promise<Blob | null> {
  const run = await oncePerRun('pglite-empty', async (run) => {
    const pg = await create();
    const blob = await pg.dumpDataDir('none');
    await pg.close();
    writeFileSync(path.join(run, 'pglite-empty.tar'), Buffer.from(await blob.arrayBuffer()));
  });
  return run ? new Blob([readFileSync(path.join(run, 'pglite-empty.tar'))]) : null;
}

PGlite.create = (async (...args: unknown[]) => {
  const inMemory = args.length === 0;
  const emptyDir =
    args.length === 1 &&
    typeof args[0] === 'string' &&
    !args[0].includes('://') &&
    !existsSync(path.join(args[0], 'PG_VERSION'));
  if (inMemory || emptyDir) {
    loaded ??= emptyCluster();
    const blob = await loaded;
    if (blob) return inMemory ? create({ loadDataDir: blob }) : create(args[0] as string, { loadDataDir: blob });
  }
  return (create as (...a: unknown[]) => ReturnType<Create>)(...args);
}) as Create;
