/**
 * Property tests of the studio's editing core (core/grid/studio.ts) on a synthetic lattice with its
 * community (the union of the base grids, so community-border edits move the parent too):
 * - 1,000 random shared-vertex moves, splits and merges (4 fast-check runs × 250 steps) keep the coverage
 *   valid — no gap, no overlap, codes unique — checked on the edited neighbourhood after every step
 *   (revalidate) and in full every 50 steps and at the end; after re-coding (numberBaseGrids, as
 *   ingest/grids/drafts.ts recodeDraft) the codes are in reading order and unique;
 * - the incremental report equals a full validateTopology report (same projection latitude) after
 *   random edits that also break the set (large moves, deletes, renames).
 */
import fc from 'fast-check';
import type { Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import {
  applyEdits,
  mergeGrids,
  moveSharedVertex,
  moveToParent,
  newParentFrom,
  neighbourhood,
  numberBaseGrids,
  revalidate,
  sortProblems,
  splitGrid,
  unionOnArcs,
  validateGrids,
  type EditInput,
  type GridSnapshot,
  type TopologyReport,
} from '../../core/index.ts';
import { latticeGrids, mulberry32 } from './synthetic.ts';

const COMMUNITY = '120106001001';

function lattice(cols: number, rows: number, seed: number): GridSnapshot[] {
  const base: GridSnapshot[] = latticeGrids({ cols, rows, seed, edgeVertices: 2 }).map((g) => ({
    code: g.code,
    level: 4,
    name: g.code,
    parent: COMMUNITY,
    kind: 'grid',
    households: 100,
    geometry: g.geometry,
  }));
  const community: GridSnapshot = {
    code: COMMUNITY,
    level: 3,
    name: 'community',
    parent: '120106001',
    kind: 'community',
    households: null,
    geometry: unionOnArcs(base.map((g) => g.geometry)),
  };
  return [community, ...base];
}

const outer = (g: GridSnapshot): Position[] =>
  g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0];

/** Shortest edge at vertex p in any grid that has it (degrees). */
function shortestEdgeAt(grids: GridSnapshot[], p: Position): number {
  let m = Infinity;
  for (const g of grids) {
    const polys = g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates;
    for (const rings of polys)
      for (const r of rings)
        for (let i = 0; i + 1 < r.length; i++) {
          const a = r[i],
            b = r[i + 1];
          if ((a[0] === p[0] && a[1] === p[1]) || (b[0] === p[0] && b[1] === p[1]))
            m = Math.min(m, Math.hypot(a[0] - b[0], a[1] - b[1]));
        }
  }
  return m;
}

function changesOf(before: GridSnapshot[], after: GridSnapshot[]) {
  const b = new Map(before.map((g) => [g.code, g])),
    a = new Map(after.map((g) => [g.code, g]));
  const out: { before: GridSnapshot | null; after: GridSnapshot | null }[] = [];
  for (const [code, g] of b) if (a.get(code) !== g) out.push({ before: g, after: null });
  for (const [code, g] of a) if (b.get(code) !== g) out.push({ before: null, after: g });
  return out;
}

const canon = (r: TopologyReport) => ({ ok: r.ok, problems: sortProblems(r.problems), counts: r.counts });

function nextCode(grids: GridSnapshot[]): string {
  let max = 0;
  for (const g of grids) if (g.level === 4) max = Math.max(max, Number(g.code.slice(12)));
  return COMMUNITY + String(max + 1).padStart(3, '0');
}

/** One random operation; null when the core refused it (a line that does not cut in two, …). */
function randomOp(grids: GridSnapshot[], rnd: () => number): { kind: string; edits: EditInput[] } | null {
  const base = grids.filter((g) => g.level === 4);
  const g = base[Math.floor(rnd() * base.length)];
  const r = rnd();
  try {
    if (r < 0.6) {
      const ring = outer(g);
      const p = ring[Math.floor(rnd() * (ring.length - 1))];
      const step = 0.08 * shortestEdgeAt(grids, p);
      const to: Position = [p[0] + (rnd() - 0.5) * 2 * step, p[1] + (rnd() - 0.5) * 2 * step];
      return { kind: 'move', edits: moveSharedVertex(grids, p, to) };
    }
    if (r < 0.8) {
      const ring = outer(g).slice(0, -1);
      const c: Position = [
        ring.reduce((s, p) => s + p[0], 0) / ring.length,
        ring.reduce((s, p) => s + p[1], 0) / ring.length,
      ];
      const ang = rnd() * Math.PI;
      const L = 0.01;
      const line: Position[] = [
        [c[0] - L * Math.cos(ang), c[1] - L * Math.sin(ang)],
        [c[0] + L * Math.cos(ang), c[1] + L * Math.sin(ang)],
      ];
      return { kind: 'split', edits: splitGrid(grids, g.code, line, nextCode(grids)) };
    }
    const near = neighbourhood(grids, [g.code]).filter((c) => c !== g.code && c.length === g.code.length);
    if (!near.length) return null;
    const other = near[Math.floor(rnd() * near.length)];
    return { kind: 'merge', edits: mergeGrids(grids, [g.code, other]) };
  } catch (e) {
    if ((e as { code?: string }).code === 'invalid_grid') return null;
    throw e;
  }
}

function runSteps(seed: number, steps: number) {
  const rnd = mulberry32(seed);
  let grids = lattice(8, 8, seed);
  const first = validateGrids(grids);
  const latitude = first.latitude;
  let report = first.report;
  expect(report.ok).toBe(true);
  const done: Record<string, number> = { move: 0, split: 0, merge: 0, refused: 0 };
  for (let i = 1; i <= steps; i++) {
    const op = randomOp(grids, rnd);
    if (!op) {
      done.refused++;
      continue;
    }
    done[op.kind]++;
    const next = applyEdits(grids, op.edits);
    report = revalidate(report, next, changesOf(grids, next), { latitude });
    expect(report.problems, `step ${i} (${op.kind})`).toEqual([]);
    grids = next;
    if (i % 50 === 0 || i === steps) {
      const full = validateGrids(grids, { latitude }).report;
      expect(canon(report)).toEqual(canon(full));
      expect(new Set(grids.map((g) => g.code)).size).toBe(grids.length);
    }
  }
  // Re-coding: reading order, as the drafts' recode does; the set stays valid and the codes unique.
  const base = grids.filter((g) => g.level === 4);
  const codes = numberBaseGrids(COMMUNITY, base);
  const recode: EditInput[] = base
    .map((g, k) => ({ op: 'update' as const, code: g.code, after: { code: codes[k] } }))
    .filter((e) => e.code !== e.after.code);
  grids = applyEdits(grids, recode);
  const after = grids.filter((g) => g.level === 4);
  expect(new Set(after.map((g) => g.code)).size).toBe(after.length);
  expect(numberBaseGrids(COMMUNITY, after)).toEqual(after.map((g) => g.code)); // already in order
  expect([...after.map((g) => g.code)].sort()).toEqual(after.map((_, k) => COMMUNITY + String(k + 1).padStart(3, '0')));
  expect(validateGrids(grids).report.problems).toEqual([]);
  return done;
}

describe('studio editing core: random edits keep the coverage valid', () => {
  it('1,000 random moves, splits and merges (4 × 250 steps)', { timeout: 120_000 }, () => {
    const totals: Record<string, number> = { move: 0, split: 0, merge: 0, refused: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const d = runSteps(seed, 250);
        for (const k of Object.keys(d)) totals[k] += d[k];
      }),
      { numRuns: 4, seed: 14 },
    );
    console.log('studio property: operations made', totals);
    expect(totals.move + totals.split + totals.merge + totals.refused).toBe(1000);
    // Most operations were made, of every kind.
    expect(totals.move).toBeGreaterThan(400);
    expect(totals.split).toBeGreaterThan(50);
    expect(totals.merge).toBeGreaterThan(50);
  });

  it(
    'the incremental report equals a full check after random edits that also break the set',
    { timeout: 120_000 },
    () => {
      const rnd = mulberry32(99);
      let grids: GridSnapshot[] = [];
      let report: TopologyReport = { ok: true, problems: [], counts: {} };
      let latitude = 0;
      let broken = 0;
      for (let i = 0; i < 120; i++) {
        // A fresh set every 30 steps: broken sets grow costly to check in full.
        if (i % 30 === 0) ({ report, latitude } = validateGrids((grids = lattice(6, 6, 5 + i))));
        const base = grids.filter((g) => g.level === 4);
        const g = base[Math.floor(rnd() * base.length)];
        const r = rnd();
        let edits: EditInput[];
        if (r < 0.45) {
          // A large move: overlaps, self-intersections, community border changes.
          const ring = outer(g);
          const p = ring[Math.floor(rnd() * (ring.length - 1))];
          const step = (rnd() < 0.5 ? 0.1 : 1.5) * shortestEdgeAt(grids, p);
          edits = moveSharedVertex(grids, p, [p[0] + (rnd() - 0.5) * 2 * step, p[1] + (rnd() - 0.5) * 2 * step]);
        } else if (r < 0.6) {
          // Move one grid's copy only: gaps and overlaps with its neighbours.
          const ring = outer(g);
          const k = 1 + Math.floor(rnd() * (ring.length - 2));
          const moved = ring.map((p, j) =>
            j === k ? [p[0] + 0.0002 * (rnd() - 0.5), p[1] + 0.0002 * (rnd() - 0.5)] : p,
          );
          edits = [{ op: 'update', code: g.code, after: { geometry: { type: 'Polygon', coordinates: [moved] } } }];
        } else if (r < 0.7) {
          edits = [{ op: 'delete', code: g.code }];
        } else if (r < 0.8 && grids.some((x) => x.level === 3)) {
          edits = [{ op: 'delete', code: COMMUNITY }];
        } else if (r < 0.85) {
          edits = [{ op: 'create', after: { ...g, code: nextCode(grids), name: 'copy' } }]; // a full overlap
        } else {
          const undo = grids.find((x) => x.level === 3);
          if (!undo) {
            const geometry = unionOnArcs(grids.filter((x) => x.level === 4).map((x) => x.geometry));
            edits = [
              {
                op: 'create',
                after: {
                  code: COMMUNITY,
                  level: 3,
                  name: 'c',
                  parent: '120106001',
                  kind: 'community',
                  households: null,
                  geometry,
                },
              },
            ];
          } else {
            const ring = outer(g);
            const p = ring[0];
            edits = moveSharedVertex(grids, p, [p[0] + 0.00001, p[1] - 0.00001]);
          }
        }
        const next = applyEdits(grids, edits);
        report = revalidate(report, next, changesOf(grids, next), { latitude });
        const full = validateGrids(next, { latitude }).report;
        expect(canon(report), `step ${i}`).toEqual(canon(full));
        if (!full.ok) broken++;
        grids = next;
      }
      expect(broken).toBeGreaterThan(40); // the comparison saw broken sets, not only valid ones
    },
  );

  it(
    'the incremental report equals a full check with two communities under a street (moves between parents)',
    { timeout: 120_000 },
    () => {
      const rnd = mulberry32(7);
      const STREET = '120106001';
      const C2 = '120106001002';
      const fresh = (): GridSnapshot[] => {
        const base = lattice(6, 4, 21).filter((g) => g.level === 4);
        // The east half (columns 3..5) is community 002, its grids renumbered.
        const east = base.filter((_, k) => k % 6 >= 3);
        let grids = applyEdits(
          base,
          east.map((g, k) => ({
            op: 'update' as const,
            code: g.code,
            after: { code: C2 + String(k + 1).padStart(3, '0') },
          })),
        );
        const kidsOf = (c: string) => grids.filter((g) => g.parent === c).map((g) => g.geometry);
        const parent = (code: string, level: number, parentCode: string | null, geoms: GridSnapshot['geometry'][]) => ({
          code,
          level,
          name: code,
          parent: parentCode,
          kind: level === 2 ? 'street' : 'community',
          households: null,
          geometry: unionOnArcs(geoms),
        });
        grids = [parent(COMMUNITY, 3, STREET, kidsOf(COMMUNITY)), parent(C2, 3, STREET, kidsOf(C2)), ...grids];
        return [
          parent(
            STREET,
            2,
            '120106',
            grids.filter((g) => g.level === 3).map((g) => g.geometry),
          ),
          ...grids,
        ];
      };
      let grids: GridSnapshot[] = [];
      let report: TopologyReport = { ok: true, problems: [], counts: {} };
      let latitude = 0;
      let broken = 0,
        hierarchy = 0;
      for (let i = 0; i < 80; i++) {
        if (i % 20 === 0) {
          ({ report, latitude } = validateGrids((grids = fresh())));
          expect(report.problems).toEqual([]);
        }
        const base = grids.filter((g) => g.level === 4);
        const g = base[Math.floor(rnd() * base.length)];
        const r = rnd();
        let edits: EditInput[] = [];
        try {
          if (r < 0.3) {
            const other = g.parent === COMMUNITY ? C2 : COMMUNITY;
            if (grids.some((x) => x.code === other)) edits = moveToParent(grids, [g.code], other);
            hierarchy++;
          } else if (r < 0.4) {
            edits = newParentFrom(grids, [g.code], 3, '120106001003', 'new');
            hierarchy++;
          } else if (r < 0.6) {
            const ring = outer(g);
            const p = ring[Math.floor(rnd() * (ring.length - 1))];
            const step = (rnd() < 0.5 ? 0.1 : 1.5) * shortestEdgeAt(grids, p);
            edits = moveSharedVertex(grids, p, [p[0] + (rnd() - 0.5) * 2 * step, p[1] + (rnd() - 0.5) * 2 * step]);
          } else if (r < 0.7) {
            const near = neighbourhood(grids, [g.code]).filter((c) => c !== g.code && c.length === g.code.length);
            if (near.length) edits = mergeGrids(grids, [g.code, near[0]]);
          } else if (r < 0.8) {
            edits = [{ op: 'delete', code: g.code }];
          } else if (r < 0.9) {
            const parents = grids.filter((x) => x.level === 3);
            edits = [{ op: 'delete', code: parents[Math.floor(rnd() * parents.length)].code }];
          } else {
            const ring = outer(g);
            const k = 1 + Math.floor(rnd() * (ring.length - 2));
            const moved = ring.map((p, j) =>
              j === k ? [p[0] + 0.0003 * (rnd() - 0.5), p[1] + 0.0003 * (rnd() - 0.5)] : p,
            );
            edits = [{ op: 'update', code: g.code, after: { geometry: { type: 'Polygon', coordinates: [moved] } } }];
          }
        } catch (e) {
          if (!['invalid_grid', 'conflict', 'invalid_code'].includes((e as { code?: string }).code ?? '')) throw e;
        }
        if (!edits.length) continue;
        const next = applyEdits(grids, edits);
        report = revalidate(report, next, changesOf(grids, next), { latitude });
        const full = validateGrids(next, { latitude }).report;
        expect(canon(report), `step ${i}`).toEqual(canon(full));
        if (!full.ok) broken++;
        grids = next;
      }
      expect(broken).toBeGreaterThan(20);
      expect(hierarchy).toBeGreaterThan(15);
    },
  );
});
