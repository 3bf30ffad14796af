/**
 * `onegrid grids import|export|list|publish|diff`. Import reads the file (ingest/grids/io.ts), validates
 * its topology (core) and stores it as a draft version; `--publish` publishes it at once (refused, like
 * `grids publish`, when devices or open cases would lose their base grid, unless `--force`).
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import type { Db } from '../store/db.ts';
import { gridFeature, gridsOfVersion, publishedVersion } from '../store/grids.ts';
import { exportGrids, importGrids, GRID_FORMATS, type GridFormat } from './io.ts';
import { publishVersion, type PublishReport } from './publish.ts';
import { diffVersions, listVersions, storeVersion } from './versions.ts';
import { codeProfile, DomainError } from '../../core/index.ts';

export type GridsVerb = 'import' | 'export' | 'list' | 'publish' | 'diff';
export const GRIDS_VERBS: readonly GridsVerb[] = ['import', 'export', 'list', 'publish', 'diff'];

interface Ctx {
  loadConfig: () => Config;
  withDb: <T>(cfg: Config, fn: (db: Db) => Promise<T>, opts?: { sample?: boolean }) => Promise<T>;
  help: string;
  out: (json: boolean, obj: unknown, text: string) => void;
}

function versionArg(raw: string | undefined, what: string): number {
  if (!raw || !/^\d+$/.test(raw)) throw new DomainError('bad_request', `${what} must be a grid version number`);
  return Number(raw);
}

function publishText(p: PublishReport): string {
  const lines = [
    `published version ${p.to}${p.from !== null ? ` (version ${p.from} archived, ${p.codesMapped} codes mapped)` : ''}`,
    `devices re-joined: ${p.devicesRejoined} (${p.devicesChanged.length} changed grid), open cases re-joined: ${p.casesRejoined} (${p.casesChanged.length} changed grid)`,
  ];
  for (const d of p.devicesChanged.slice(0, 20)) lines.push(`  device ${d.id}: ${d.from ?? '-'} → ${d.to ?? '-'}`);
  for (const c of p.casesChanged.slice(0, 20)) lines.push(`  case ${c.id}: ${c.from ?? '-'} → ${c.to ?? '-'}`);
  if (p.warning) lines.push(`WARNING: ${p.warning}`);
  return lines.join('\n');
}

export async function gridsCommand(verb: GridsVerb, args: string[], ctx: Ctx): Promise<number> {
  const cfg = () => ctx.loadConfig();
  if (verb === 'import') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        crs: { type: 'string' },
        encoding: { type: 'string' },
        'code-field': { type: 'string' },
        'name-field': { type: 'string' },
        'level-field': { type: 'string' },
        profile: { type: 'string' },
        publish: { type: 'boolean' },
        force: { type: 'boolean' },
        label: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    if (values.help || !positionals[0]) return (ctx.out(false, null, ctx.help), values.help ? 0 : 2);
    const file = positionals[0];
    if (values.format && !(GRID_FORMATS as readonly string[]).includes(values.format))
      throw new DomainError('bad_request', `--format must be one of ${GRID_FORMATS.join(', ')}`);
    const c = cfg();
    const profile = codeProfile(values.profile ?? c.gridCodeProfile);
    const fc = await importGrids(file, {
      format: values.format as GridFormat | undefined,
      crs: values.crs,
      encoding: values.encoding,
      codeField: values['code-field'],
      nameField: values['name-field'],
      levelField: values['level-field'],
      profile,
      region: c.gridRegion,
      maxBytes: c.gridImportMaxMb * 1024 * 1024,
      maxFeatures: c.gridImportMaxFeatures,
    });
    // The first import into an empty data directory brings the district: the sample is not loaded.
    const result = await ctx.withDb(
      c,
      async (db) => {
        const version = await db.tx((q) =>
          storeVersion(q, fc.features, values.label ?? `import of ${file}`, 'cli', profile),
        );
        const published = values.publish
          ? await publishVersion(db, version, { force: !!values.force, maxOutsideShare: c.gridPublishMaxOutside })
          : null;
        return {
          version,
          features: fc.features.length,
          profile: profile.id,
          source: fc.source,
          repairs: fc.repairs,
          published,
        };
      },
      { sample: false },
    );
    ctx.out(
      !!values.json,
      result,
      [
        `imported ${result.features} grids (${result.source?.format}, CRS ${result.source?.crs}, text ${result.source?.encoding ?? 'utf-8'}, profile ${result.profile}) as version ${result.version}`,
        ...(result.repairs ?? []).map((r) => `  repaired: ${r}`),
        result.published
          ? publishText(result.published)
          : `draft; publish with: onegrid grids publish ${result.version}`,
      ].join('\n'),
    );
    return 0;
  }
  if (verb === 'list') {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean' } } });
    if (values.help) return (ctx.out(false, null, ctx.help), 0);
    const list = await ctx.withDb(cfg(), (db) => listVersions(db));
    ctx.out(
      !!values.json,
      list,
      list
        .map(
          (v) =>
            `${String(v.id).padStart(4)}  ${v.status.padEnd(9)} ${v.profile.padEnd(6)} ${[1, 2, 3, 4].map((l) => v.counts[l] ?? 0).join('/')}  ${v.label}`,
        )
        .join('\n') || 'no grid versions',
    );
    return 0;
  }
  if (verb === 'publish') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    });
    if (values.help) return (ctx.out(false, null, ctx.help), 0);
    const v = versionArg(positionals[0], 'VERSION');
    const c = cfg();
    const p = await ctx.withDb(c, (db) =>
      publishVersion(db, v, { force: !!values.force, maxOutsideShare: c.gridPublishMaxOutside }),
    );
    ctx.out(!!values.json, p, publishText(p));
    return 0;
  }
  if (verb === 'diff') {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean' } },
    });
    if (values.help) return (ctx.out(false, null, ctx.help), 0);
    const a = versionArg(positionals[0], 'A'),
      b = versionArg(positionals[1], 'B');
    const d = await ctx.withDb(cfg(), (db) => diffVersions(db, a, b));
    ctx.out(
      !!values.json,
      d,
      [
        `version ${a} → ${b}: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`,
        ...d.added.map((g) => `  + ${g.code} ${g.name}`),
        ...d.removed.map((g) => `  - ${g.code} ${g.name}`),
        ...d.changed.map((g) => `  ~ ${g.code} ${g.name} (${g.fields!.join(', ')})`),
      ].join('\n'),
    );
    return 0;
  }
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string' },
      out: { type: 'string' },
      level: { type: 'string' },
      encoding: { type: 'string' },
      version: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return (ctx.out(false, null, ctx.help), 0);
  const format = (values.format ?? 'geojson') as GridFormat;
  if (!['geojson', 'kml', 'shp'].includes(format))
    throw new DomainError('bad_request', '--format must be one of geojson, kml, shp');
  const level = values.level === undefined ? undefined : Number(values.level);
  if (level !== undefined && ![1, 2, 3, 4].includes(level))
    throw new DomainError('bad_request', '--level must be 1, 2, 3 or 4');
  const encoding = (values.encoding ?? 'utf-8').toLowerCase();
  if (encoding !== 'utf-8' && encoding !== 'gbk')
    throw new DomainError('bad_request', '--encoding must be utf-8 or gbk');
  if (format === 'shp' && !values.out)
    throw new DomainError('bad_request', '--out FILE is required for a Shapefile zip');
  const data = await ctx.withDb(cfg(), async (db) => {
    const v = values.version ? versionArg(values.version, '--version') : await publishedVersion(db);
    if (v === null) throw new DomainError('not_found', 'no published grid version (give --version N)');
    const rows = await gridsOfVersion(db, v, { level });
    return exportGrids(rows.map(gridFeature), format, { encoding });
  });
  if (values.out) {
    writeFileSync(values.out, data);
    process.stderr.write(`wrote ${values.out}\n`);
  } else process.stdout.write(data);
  return 0;
}
