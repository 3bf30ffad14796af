/**
 * Publishing a grid version: the previous published version is archived, the mapping from old base-grid
 * codes to new ones is kept (each old grid's centroid joined into the new set), and devices and
 * open cases are re-joined to the new grids — all in one transaction (DESIGN.md "Grids"), with a
 * `grid_published` entry in the security audit log.
 *
 * A set that would strand the platform is refused unless confirmed (`force`): one without base grids,
 * one that would leave more than `maxOutsideShare` of the located devices outside every base grid, or
 * one that would leave any open case outside. The refusal is DomainError('conflict') whose details say
 * how many devices and open cases would lose their base grid (`confirmRequired: true`).
 */
import { buildGridIndex, centroidOf, codeProfile, DomainError } from '../../core/index.ts';
import { recordAudit } from '../auth/audit.ts';
import type { Db, Queryable } from '../store/db.ts';
import { gridsOfVersion, publishedVersion } from '../store/grids.ts';

export interface RejoinChange {
  /** Device id or case id. */
  id: string;
  /** Base grid before and after; null = outside every base grid. */
  from: string | null;
  to: string | null;
}

export interface PublishReport {
  from: number | null;
  to: number;
  codesMapped: number;
  /** Located devices re-joined, and open cases with a location re-joined. */
  devicesRejoined: number;
  casesRejoined: number;
  /** Those whose base grid changed, with old and new grid (the first 1,000 of each). */
  devicesChanged: RejoinChange[];
  casesChanged: RejoinChange[];
  /** Counts of devices / open cases that had a base grid and have none now. */
  devicesLosingGrid: number;
  casesLosingGrid: number;
  /** Set when the publish went through on an explicit confirmation. */
  warning: string | null;
}

export interface PublishOptions {
  /** Publish although devices or open cases lose their base grid, or the set has no base grids. */
  force?: boolean;
  /** Share (0–1) of located devices that may end outside every base grid without `force` (default 0.05). */
  maxOutsideShare?: number;
  /** Who publishes (audit log); null = the CLI / system. */
  actor?: string | null;
  ip?: string | null;
}

/** The code profile a version was made with (grid_versions.profile). */
export async function profileOfVersion(q: Queryable, versionId: number) {
  const r = await q.query<{ profile: string; status: string }>(
    `SELECT profile, status FROM grid_versions WHERE id = $1`,
    [versionId],
  );
  if (!r.rows[0]) throw new DomainError('not_found', `grid version ${versionId} does not exist`);
  return { profile: codeProfile(r.rows[0].profile), status: r.rows[0].status };
}

const LIST_MAX = 1000;

export async function publishVersion(db: Db, versionId: number, options: PublishOptions = {}): Promise<PublishReport> {
  return db.tx((q) => publishInTx(q, versionId, options));
}

/** publishVersion inside the caller's transaction (the studio marks its draft published in the same one). */
export async function publishInTx(
  q: Queryable,
  versionId: number,
  options: PublishOptions = {},
): Promise<PublishReport> {
  const maxShare = options.maxOutsideShare ?? 0.05;
  {
    const { profile, status } = await profileOfVersion(q, versionId);
    if (status === 'published') throw new DomainError('conflict', `grid version ${versionId} is already published`);
    const from = await publishedVersion(q);
    const next = await gridsOfVersion(q, versionId, { level: 4 });
    const index = buildGridIndex(
      next.map((g) => ({ code: g.code, geometry: g.geometry })),
      { profile },
    );

    // Re-join every located device and every open case with the new index (before anything is written,
    // so that a refusal leaves nothing behind).
    const devs = await q.query<{ id: string; lng: number; lat: number; grid: string | null }>(
      `SELECT id, lng, lat, grid FROM devices WHERE lng IS NOT NULL ORDER BY id`,
    );
    const devGrids = devs.rows.map((d) => index.join(d.lng, d.lat).grid);
    const cases = await q.query<{ id: string; grid: string | null; doc: { location?: [number, number] | null } }>(
      `SELECT id, grid, doc FROM cases WHERE state NOT IN ('closed', 'rejected', 'merged') ORDER BY id`,
    );
    const located = cases.rows.filter((c) => Array.isArray(c.doc.location));
    const caseJoins = located.map((c) => index.join(c.doc.location![0], c.doc.location![1]));

    const devicesChanged: RejoinChange[] = [];
    let devicesLosingGrid = 0,
      devicesOutside = 0;
    devs.rows.forEach((d, i) => {
      const to = devGrids[i];
      if (to === null) devicesOutside++;
      if (d.grid !== null && to === null) devicesLosingGrid++;
      if (d.grid !== to && devicesChanged.length < LIST_MAX) devicesChanged.push({ id: d.id, from: d.grid, to });
    });
    const casesChanged: RejoinChange[] = [];
    let casesLosingGrid = 0;
    located.forEach((c, i) => {
      const to = caseJoins[i].grid;
      if (to === null) casesLosingGrid++;
      if (c.grid !== to && casesChanged.length < LIST_MAX) casesChanged.push({ id: c.id, from: c.grid, to });
    });

    const reasons: string[] = [];
    if (next.length === 0) reasons.push('the set has no base grids');
    if (devs.rows.length > 0 && devicesOutside / devs.rows.length > maxShare)
      reasons.push(
        `${devicesOutside} of ${devs.rows.length} located devices would lie outside every base grid (more than ${Math.round(maxShare * 1000) / 10}%)`,
      );
    if (casesLosingGrid > 0) reasons.push(`${casesLosingGrid} open case(s) would lie outside every base grid`);
    const summary =
      `publishing grid version ${versionId} would leave ${devicesLosingGrid} device(s) and ${casesLosingGrid} open ` +
      `case(s) without the base grid they have now (${reasons.join('; ')})`;
    if (reasons.length && !options.force) {
      throw new DomainError('conflict', `${summary}: confirm with --force (API: "confirm": true) to publish anyway`, {
        confirmRequired: true,
        baseGrids: next.length,
        devicesLocated: devs.rows.length,
        devicesOutside,
        devicesLosingGrid,
        casesLosingGrid,
      });
    }

    let codesMapped = 0;
    if (from !== null) {
      const old = await gridsOfVersion(q, from, { level: 4 });
      const oldCodes: string[] = [];
      const newCodes: (string | null)[] = [];
      for (const g of old) {
        const [lng, lat] = centroidOf(g.geometry);
        oldCodes.push(g.code);
        newCodes.push(index.join(lng, lat).grid);
      }
      await q.query(
        `INSERT INTO grid_code_map (from_version, to_version, old_code, new_code)
         SELECT $1, $2, * FROM unnest($3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
        [from, versionId, oldCodes, newCodes],
      );
      codesMapped = oldCodes.length;
      await q.query(`UPDATE grid_versions SET status = 'archived' WHERE id = $1`, [from]);
    }
    await q.query(`UPDATE grid_versions SET status = 'published', published_at = now() WHERE id = $1`, [versionId]);
    const ids = devs.rows.map((d) => d.id);
    if (ids.length)
      await q.query(
        `UPDATE devices d SET grid = u.grid FROM unnest($1::text[], $2::text[]) AS u(id, grid) WHERE d.id = u.id`,
        [ids, devGrids],
      );
    for (let i = 0; i < located.length; i++) {
      const g = caseJoins[i];
      await q.query(`UPDATE cases SET grid = $2, doc = jsonb_set(doc, '{grid}', $3::jsonb) WHERE id = $1`, [
        located[i].id,
        g.grid,
        JSON.stringify(g),
      ]);
    }
    const warning = reasons.length ? `${summary}; published on explicit confirmation` : null;
    await recordAudit(q, {
      kind: 'grid_published',
      actor: options.actor ?? null,
      target: String(versionId),
      ip: options.ip ?? null,
      detail: {
        from,
        to: versionId,
        profile: profile.id,
        baseGrids: next.length,
        devicesChanged: devicesChanged.length,
        casesChanged: casesChanged.length,
        forced: !!warning,
      },
    });
    return {
      from,
      to: versionId,
      codesMapped,
      devicesRejoined: ids.length,
      casesRejoined: located.length,
      devicesChanged,
      casesChanged,
      devicesLosingGrid,
      casesLosingGrid,
      warning,
    };
  }
}
