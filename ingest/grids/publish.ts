/**
 * Publishing a grid version: the previous published version is archived, the mapping from old base-grid
 * codes to new ones is kept (each old grid's centroid joined into the new set), and devices and
 * open cases are re-joined to the new grids — all in one transaction (DESIGN.md "Grids").
 */
import { buildGridIndex, centroidOf } from '../../core/index.ts';
import type { Db } from '../store/db.ts';
import { gridsOfVersion, publishedVersion } from '../store/grids.ts';

export interface PublishReport {
  from: number | null;
  to: number;
  codesMapped: number;
  devicesRejoined: number;
  casesRejoined: number;
}

export async function publishVersion(db: Db, versionId: number): Promise<PublishReport> {
  return db.tx(async (q) => {
    const from = await publishedVersion(q);
    const next = await gridsOfVersion(q, versionId, { level: 4 });
    const index = buildGridIndex(next.map((g) => ({ code: g.code, geometry: g.geometry })));
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
    // Re-join every located device and every open case with the new index.
    const devs = await q.query<{ id: string; lng: number; lat: number }>(
      `SELECT id, lng, lat FROM devices WHERE lng IS NOT NULL`,
    );
    const ids = devs.rows.map((d) => d.id);
    const grids = devs.rows.map((d) => index.join(d.lng, d.lat).grid);
    if (ids.length)
      await q.query(
        `UPDATE devices d SET grid = u.grid FROM unnest($1::text[], $2::text[]) AS u(id, grid) WHERE d.id = u.id`,
        [ids, grids],
      );
    const cases = await q.query<{ id: string; doc: { location?: [number, number] | null } }>(
      `SELECT id, doc FROM cases WHERE state NOT IN ('closed', 'rejected', 'merged')`,
    );
    let casesRejoined = 0;
    for (const c of cases.rows) {
      const loc = c.doc.location;
      if (!loc) continue;
      const g = index.join(loc[0], loc[1]);
      await q.query(`UPDATE cases SET grid = $2, doc = jsonb_set(doc, '{grid}', $3::jsonb) WHERE id = $1`, [
        c.id,
        g.grid,
        JSON.stringify(g),
      ]);
      casesRejoined++;
    }
    return { from, to: versionId, codesMapped, devicesRejoined: ids.length, casesRejoined };
  });
}
