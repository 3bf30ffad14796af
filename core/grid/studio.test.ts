/**
 * The studio's editing core (core/grid/studio.ts) on a small lattice with its community: each operation
 * returns one change set (EditInput[]) that keeps shared boundaries exact and the set valid, and refuses
 * what it cannot do with a clear DomainError.
 */
import type { Polygon, Position } from 'geojson';
import { describe, expect, it } from 'vitest';
import { latticeGrids } from '../../test/grid/synthetic.ts';
import {
  applyEdits,
  dragVertex,
  insertVertex,
  mergeGrids,
  moveSharedVertex,
  moveToParent,
  neighbourhood,
  newParentFrom,
  quickFixes,
  removeVertex,
  reshapeBoundary,
  revalidate,
  sharedVertexAt,
  snapPosition,
  snapTarget,
  splitGrid,
  unionOnArcs,
  validateGrids,
  type GridSnapshot,
} from './studio.ts';

const C1 = '120106001001';

/** A 4×3 lattice (codes …001 … …012 row-major from the south-west) and its community. */
function set(): GridSnapshot[] {
  const base: GridSnapshot[] = latticeGrids({ cols: 4, rows: 3, seed: 3, edgeVertices: 2 }).map((g) => ({
    code: g.code,
    level: 4,
    name: `g${g.code.slice(-3)}`,
    parent: C1,
    kind: 'grid',
    households: 10,
    geometry: g.geometry,
  }));
  return [
    {
      code: C1,
      level: 3,
      name: 'c1',
      parent: '120106001',
      kind: 'community',
      households: null,
      geometry: unionOnArcs(base.map((g) => g.geometry)),
    },
    ...base,
  ];
}
const code = (n: number) => C1 + String(n).padStart(3, '0');
const ring = (gs: GridSnapshot[], c: string) => (gs.find((g) => g.code === c)!.geometry as Polygon).coordinates[0];
const valid = (gs: GridSnapshot[]) => validateGrids(gs).report;
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
  throw new Error('expected a refusal');
};

describe('studio core', () => {
  const grids = set();
  // The corner shared by grids 1, 2, 5, 6 (the lattice's vertex (1, 1)).
  const corner = ring(grids, code(1)).find((p) =>
    [code(2), code(5), code(6)].every((c) => ring(grids, c).some((q) => q[0] === p[0] && q[1] === p[1])),
  )!;

  it('the lattice and its community are valid', () => {
    expect(valid(grids).problems).toEqual([]);
  });

  it('sharedVertexAt finds the exact stored vertex and every grid with it', () => {
    const hit = sharedVertexAt(grids, [corner[0] + 1e-6, corner[1] - 1e-6], 1e-4)!;
    expect(hit.position).toEqual(corner);
    expect(hit.codes.sort()).toEqual([code(1), code(2), code(5), code(6)]);
    expect(sharedVertexAt(grids, [corner[0] + 1, corner[1]], 1e-4)).toBeNull();
  });

  it('moveSharedVertex moves it in every grid that has it: one change set, still valid', () => {
    const to: Position = [corner[0] + 0.0001, corner[1] + 0.00005];
    const edits = moveSharedVertex(grids, corner, to);
    expect(edits.map((e) => [e.op, e.code]).sort()).toEqual(
      [code(1), code(2), code(5), code(6)].map((c) => ['update', c]),
    );
    const after = applyEdits(grids, edits);
    expect(valid(after).problems).toEqual([]);
    expect(sharedVertexAt(after, to, 1e-9)!.codes).toHaveLength(4);
    expect(refusal(() => moveSharedVertex(grids, [0, 0], [1, 1]))).toMatch(/^not_found/);
  });

  it('a border vertex moves in the community too', () => {
    const p = ring(grids, code(1))[0]; // the south-west corner of the whole set
    const edits = moveSharedVertex(grids, p, [p[0] - 0.0001, p[1] - 0.0001]);
    expect(edits.map((e) => e.code).sort()).toEqual([C1, code(1)]);
    expect(valid(applyEdits(grids, edits)).problems).toEqual([]);
  });

  it('snapPosition copies a neighbour vertex exactly, or a point on its edge; else returns the point', () => {
    expect(snapPosition(grids, [corner[0] + 2e-6, corner[1] + 1e-6], 1e-4)).toEqual(corner);
    expect(
      snapPosition(grids, [corner[0] + 2e-6, corner[1]], 1e-4, [code(1), code(2), code(5), code(6), C1]),
    ).not.toEqual(corner);
    const far: Position = [0, 0];
    expect(snapPosition(grids, far, 1e-4)).toEqual(far);
    const r = ring(grids, code(6));
    const mid: Position = [(r[0][0] + r[1][0]) / 2, (r[0][1] + r[1][1]) / 2 + 1e-7];
    const t = snapTarget(grids, mid, 1e-5);
    expect(t.kind).toBe('edge');
    expect(t.codes.sort()).toEqual([code(2), code(6)]);
  });

  it('dragVertex snapped onto an edge inserts the point into the edge grids: no near miss', () => {
    // Drag the middle vertex of grid 6's south edge onto grid 6's … edge of grid 7 (a neighbour's edge).
    const r7 = ring(grids, code(7));
    const target: Position = [(r7[0][0] + r7[1][0]) / 2, (r7[0][1] + r7[1][1]) / 2];
    const edits = dragVertex(grids, corner, [target[0] + 1e-7, target[1]], 1e-4);
    const after = applyEdits(grids, edits);
    const moved = sharedVertexAt(after, target, 1e-4)!;
    // Every grid touching that point has it as a stored vertex.
    for (const c of moved.codes)
      expect(ring(after, c).some((p) => p[0] === moved.position[0] && p[1] === moved.position[1])).toBe(true);
    expect(moved.codes).toEqual(expect.arrayContaining([code(3), code(7)]));
  });

  it('insertVertex inserts on the shared edge in both grids; removeVertex removes it from both', () => {
    const r = ring(grids, code(6));
    const mid: Position = [(r[0][0] + r[1][0]) / 2, (r[0][1] + r[1][1]) / 2];
    const edits = insertVertex(grids, mid, 1e-4);
    expect(edits.map((e) => e.code).sort()).toEqual([code(2), code(6)]);
    const after = applyEdits(grids, edits);
    expect(ring(after, code(6))).toHaveLength(r.length + 1);
    const v = sharedVertexAt(after, mid, 1e-4)!;
    expect(v.codes.sort()).toEqual([code(2), code(6)]);
    expect(valid(after).problems).toEqual([]);
    const back = applyEdits(after, removeVertex(after, v.position));
    expect(ring(back, code(6))).toHaveLength(r.length);
    expect(valid(back).problems).toEqual([]);
  });

  it('removeVertex refuses to leave a ring below 4 positions', () => {
    const tri: GridSnapshot = {
      ...grids[1],
      code: code(99),
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [0, 1],
            [0, 0],
          ],
        ],
      },
    };
    expect(refusal(() => removeVertex([tri], [1, 0]))).toMatch(/^invalid_grid: .*fewer than 4 positions/);
  });

  it('splitGrid cuts one grid in two by a line; the cut points join the neighbours rings', () => {
    const r = ring(grids, code(6));
    const xs = r.map((p) => p[0]),
      ys = r.map((p) => p[1]);
    const y = (Math.min(...ys) + Math.max(...ys)) / 2;
    const line: Position[] = [
      [Math.min(...xs) - 0.001, y],
      [(Math.min(...xs) + Math.max(...xs)) / 2, y + 0.0001],
      [Math.max(...xs) + 0.001, y],
    ];
    const edits = splitGrid(grids, code(6), line, code(13));
    const after = applyEdits(grids, edits);
    expect(valid(after).problems).toEqual([]);
    expect(after.find((g) => g.code === code(13))).toMatchObject({ level: 4, parent: C1, kind: 'grid' });
    // The west and east neighbours (5 and 7) got the cut points; nobody else changed.
    expect(edits.map((e) => `${e.op}:${e.code ?? e.after?.code}`).sort()).toEqual(
      [`create:${code(13)}`, `update:${code(5)}`, `update:${code(6)}`, `update:${code(7)}`].sort(),
    );
    expect(refusal(() => splitGrid(grids, code(6), [line[0], [line[1][0], line[1][1]]], code(13)))).toMatch(
      /^invalid_grid: .*exactly twice.*1 time/,
    );
    expect(refusal(() => splitGrid(grids, code(6), line, code(7)))).toMatch(/^conflict/);
    expect(refusal(() => splitGrid(grids, code(6), line, '120106001002001'))).toMatch(/^invalid_code/);
    expect(refusal(() => splitGrid(grids, C1, line, '120106001002'))).toMatch(/^invalid_grid: .*grids under it/);
  });

  it('mergeGrids unions neighbours on arcs into the first code; refuses grids that share no edge', () => {
    const edits = mergeGrids(grids, [code(6), code(7), code(2)]);
    const after = applyEdits(grids, edits);
    expect(valid(after).problems).toEqual([]);
    expect(after.find((g) => g.code === code(6))).toMatchObject({ households: 30 });
    expect(after.find((g) => g.code === code(6))!.geometry.type).toBe('Polygon');
    expect(
      edits
        .filter((e) => e.op === 'delete')
        .map((e) => e.code)
        .sort(),
    ).toEqual([code(2), code(7)]);
    expect(refusal(() => mergeGrids(grids, [code(1), code(6)]))).toMatch(/^invalid_grid: .*share\(s\) no edge/);
    expect(refusal(() => mergeGrids(grids, [code(1), C1]))).toMatch(/^invalid_grid: .*one level/);
  });

  it('reshapeBoundary replaces the shared boundary in both grids', () => {
    const a = ring(grids, code(6)),
      b = ring(grids, code(7));
    const sharedPts = a.filter((p) => b.some((q) => q[0] === p[0] && q[1] === p[1]));
    const [s, e] = [sharedPts[0], sharedPts[sharedPts.length - 1]];
    const mid: Position = [(s[0] + e[0]) / 2 + 0.0002, (s[1] + e[1]) / 2];
    const edits = reshapeBoundary(grids, code(6), code(7), [mid]);
    expect(edits.map((x) => x.code).sort()).toEqual([code(6), code(7)]);
    const after = applyEdits(grids, edits);
    expect(valid(after).problems).toEqual([]);
    expect(sharedVertexAt(after, mid, 1e-12)!.codes.sort()).toEqual([code(6), code(7)]);
    expect(refusal(() => reshapeBoundary(grids, code(1), code(6), [mid]))).toMatch(/^invalid_grid: .*share no edge/);
  });

  it('newParentFrom makes a community from selected grids; moveToParent moves grids between communities', () => {
    const edits = newParentFrom(grids, [code(4), code(8), code(12)], 3, '120106001002', '新社区');
    const after = applyEdits(grids, edits);
    expect(valid(after).problems).toEqual([]);
    const c2 = after.find((g) => g.code === '120106001002')!;
    expect(c2).toMatchObject({ level: 3, name: '新社区', parent: '120106001', households: 30 });
    // West→east, north→south: 12 (north) is 001, 4 (south) is 003.
    expect(
      after
        .filter((g) => g.parent === '120106001002')
        .map((g) => g.code)
        .sort(),
    ).toEqual(['120106001002001', '120106001002002', '120106001002003']);
    const moved = applyEdits(after, moveToParent(after, ['120106001002002'], C1));
    expect(valid(moved).problems).toEqual([]);
    expect(moved.filter((g) => g.parent === C1)).toHaveLength(10);
    expect(moved.find((g) => g.code === code(12))).toBeTruthy(); // the next free code
    expect(refusal(() => moveToParent(after, [C1], '120106001002'))).toMatch(/^invalid_code/);
  });

  it('quickFixes: close a ring, drop a repeated vertex, fill a gap, give an overlap to one grid', () => {
    const r6 = ring(grids, code(6));
    const broken = grids.map((g) =>
      g.code === code(6)
        ? { ...g, geometry: { type: 'Polygon' as const, coordinates: [r6.slice(0, -1)] } }
        : g.code === code(7)
          ? {
              ...g,
              geometry: {
                type: 'Polygon' as const,
                coordinates: [[...ring(grids, code(7)).slice(0, 2), ...ring(grids, code(7)).slice(1)]],
              },
            }
          : g,
    );
    const report = valid(broken);
    const fixes = quickFixes(broken, report);
    const kinds = fixes.map((f) => report.problems[f.issueIndex].kind);
    expect(kinds).toContain('ring_not_closed');
    for (const f of fixes) expect(f.label.zh && f.label.en).toBeTruthy();
    let fixed = broken;
    for (const f of fixes)
      fixed = applyEdits(
        fixed,
        f.edits.map((e) => ({ ...e })),
      );
    expect(valid(fixed).problems).toEqual([]);

    // A gap: one vertex of grid 6 pulled inwards in grid 6 only.
    const k = 2;
    const inward = r6.map((p, i) => (i === k ? [p[0] + 0.0002, p[1] + 0.0002] : p));
    const gapped = grids.map((g) =>
      g.code === code(6) ? { ...g, geometry: { type: 'Polygon' as const, coordinates: [inward] } } : g,
    );
    // It overlaps grid 7 and leaves a gap towards grid 2: one fix each, applied one after the other.
    let state = gapped;
    const applied: string[] = [];
    for (let k = 0; k < 4; k++) {
      const rep = valid(state);
      if (rep.ok) break;
      const fix = quickFixes(state, rep)[0];
      expect(fix, rep.problems.map((p) => p.message).join('; ')).toBeTruthy();
      applied.push(rep.problems[fix.issueIndex].kind);
      state = applyEdits(state, fix.edits);
    }
    expect(applied.sort()).toEqual(['gap', 'overlap']);
    expect(valid(state).problems).toEqual([]);
  });

  it('neighbourhood: grids whose bbox touches the changed ones, and their parents', () => {
    const n = neighbourhood(grids, [code(6)]);
    expect(n).toEqual(expect.arrayContaining([C1, code(1), code(2), code(3), code(5), code(6), code(7), code(10)]));
    expect(n).not.toContain(code(4));
    expect(n).not.toContain(code(12));
  });

  it('revalidate keeps the rest of the report and re-checks the changed neighbourhood', () => {
    const { report, latitude } = validateGrids(grids);
    const before = grids.find((g) => g.code === code(6))!;
    const after = { ...before, geometry: { type: 'Polygon' as const, coordinates: [ring(grids, code(7))] } }; // 6 = 7
    const next = grids.map((g) => (g.code === code(6) ? after : g));
    const r = revalidate(report, next, [{ before, after }], { latitude });
    const full = validateGrids(next, { latitude }).report;
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.kind).sort()).toEqual(full.problems.map((p) => p.kind).sort());
    expect(r.counts).toEqual(full.counts);
  });
});
