/** `onegrid grids import|export`. Import validates topology first (core) and refuses a broken set. */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import type { Db } from '../store/db.ts';
import { createGridVersion, gridFeature, gridsOfVersion, insertGrids, publishedVersion } from '../store/grids.ts';
import { exportGrids, importGrids, GRID_FORMATS, type GridFormat } from './io.ts';
import { publishVersion } from './publish.ts';
import type { Datum } from '../../core/index.ts';

interface Ctx {
  loadConfig: () => Config;
  withDb: <T>(cfg: Config, fn: (db: Db) => Promise<T>) => Promise<T>;
  help: string;
  out: (json: boolean, obj: unknown, text: string) => void;
}

export async function gridsCommand(verb: 'import' | 'export', args: string[], ctx: Ctx): Promise<number> {
  if (verb === 'import') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        crs: { type: 'string' },
        publish: { type: 'boolean' },
        label: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    if (values.help || !positionals[0]) return (ctx.out(false, null, ctx.help), values.help ? 0 : 2);
    const file = positionals[0];
    if (values.format && !(GRID_FORMATS as readonly string[]).includes(values.format))
      throw new Error(`--format must be one of ${GRID_FORMATS.join(', ')}`);
    const fc = await importGrids(file, {
      format: values.format as GridFormat | undefined,
      crs: values.crs as Datum | undefined,
    });
    const cfg = ctx.loadConfig();
    const result = await ctx.withDb(cfg, async (db) => {
      const version = await db.tx(async (q) => {
        const v = await createGridVersion(q, values.label ?? `import of ${file}`, 'draft', 'cli');
        await insertGrids(
          q,
          v,
          fc.features.map((f) => ({
            code: f.properties.code,
            level: f.properties.level,
            name: f.properties.name,
            parent: f.properties.parent,
            kind: f.properties.kind,
            households: typeof f.properties.households === 'number' ? f.properties.households : null,
            geometry: f.geometry,
          })),
        );
        return v;
      });
      const published = values.publish ? await publishVersion(db, version) : null;
      return { version, features: fc.features.length, published };
    });
    ctx.out(
      !!values.json,
      result,
      `imported ${result.features} grids as version ${result.version}` +
        (result.published
          ? ` and published it (devices re-joined: ${result.published.devicesRejoined}, open cases re-joined: ${result.published.casesRejoined}, codes mapped: ${result.published.codesMapped})`
          : ' (draft; publish with --publish)'),
    );
    return 0;
  }
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      out: { type: 'string' },
      level: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return (ctx.out(false, null, ctx.help), 0);
  const format = (values.format ?? 'geojson') as GridFormat;
  if (!(GRID_FORMATS as readonly string[]).includes(format))
    throw new Error(`--format must be one of ${GRID_FORMATS.join(', ')}`);
  const level = values.level === undefined ? undefined : Number(values.level);
  if (level !== undefined && ![1, 2, 3, 4].includes(level)) throw new Error('--level must be 1, 2, 3 or 4');
  if (format === 'shp' && !values.out) throw new Error('--out FILE is required for a Shapefile zip');
  const cfg = ctx.loadConfig();
  const data = await ctx.withDb(cfg, async (db) => {
    const v = await publishedVersion(db);
    if (v === null) throw new Error('no published grid version');
    const rows = await gridsOfVersion(db, v, { level });
    return exportGrids(rows.map(gridFeature), format);
  });
  if (values.out) {
    writeFileSync(values.out, data);
    process.stderr.write(`wrote ${values.out}\n`);
  } else process.stdout.write(data);
  return 0;
}
