/**
 * The studio page's door to the pure editing functions of core/grid/studio.ts: each builds the change set
 * (EditInput[], one undo step) of one operation on the draft's grids, positions [lng, lat]. This module
 * only adapts types and turns a thrown error into a message the page shows.
 */
import type { Position } from 'geojson';
import * as core from '../../../core/grid/studio.ts';
import type { EditInput, StudioGrid, TopologyReport } from './api.ts';

/** The draft's GeoJSON features as core's snapshots, converted once per grids array. */
let lastIn: readonly StudioGrid[] | null = null;
let lastOut: core.GridSnapshot[] = [];
function g(grids: readonly StudioGrid[]): core.GridSnapshot[] {
  if (grids !== lastIn) {
    lastIn = grids;
    lastOut = grids.map((f) => ({ ...f.properties, geometry: f.geometry }));
  }
  return lastOut;
}
const out = (e: core.EditInput[]) => e as unknown as EditInput[];

export type Built = { ok: true; edits: EditInput[] } | { ok: false; message: string };

function build(fn: () => core.EditInput[]): Built {
  try {
    return { ok: true, edits: out(fn()) };
  } catch (e) {
    return { ok: false, message: (e as Error).message || String(e) };
  }
}

export const edits = {
  /** Drag: `to` snapped onto a neighbour's exact stored vertex or edge within tolDeg, moved in every grid. */
  moveVertex(grids: readonly StudioGrid[], from: Position, to: Position, tolDeg: number): Built {
    return build(() => core.dragVertex(g(grids), from, to, tolDeg));
  },
  insertVertex: (grids: readonly StudioGrid[], at: Position, tolDeg: number) =>
    build(() => core.insertVertex(g(grids), at, tolDeg)),
  removeVertex: (grids: readonly StudioGrid[], at: Position) => build(() => core.removeVertex(g(grids), at)),
  split: (grids: readonly StudioGrid[], code: string, line: Position[], newCode: string) =>
    build(() => core.splitGrid(g(grids), code, line, newCode)),
  merge: (grids: readonly StudioGrid[], codes: string[]) => build(() => core.mergeGrids(g(grids), codes)),
  /**
   * Reshape the boundary of a and b along a drawn path; a drawn end within tolDeg of a vertex both grids
   * have is taken as that exact vertex (the boundary's end stays where it is).
   */
  reshape(grids: readonly StudioGrid[], a: string, b: string, path: Position[], tolDeg: number): Built {
    const snap = (p: Position) => {
      const v = core.sharedVertexAt(g(grids), p, tolDeg);
      return v && v.codes.includes(a) && v.codes.includes(b) ? v.position : p;
    };
    const snapped = path.length >= 2 ? [snap(path[0]), ...path.slice(1, -1), snap(path[path.length - 1])] : path;
    return build(() => core.reshapeBoundary(g(grids), a, b, snapped));
  },
  moveToParent: (grids: readonly StudioGrid[], codes: string[], parent: string) =>
    build(() => core.moveToParent(g(grids), codes, parent)),
  newParent: (grids: readonly StudioGrid[], codes: string[], level: number, code: string, name: string) =>
    build(() => core.newParentFrom(g(grids), codes, level as 2 | 3, code, name)),
  quickFixes(
    grids: readonly StudioGrid[],
    report: TopologyReport,
  ): { issueIndex: number; label: { zh: string; en: string }; edits: EditInput[] }[] {
    try {
      return core.quickFixes(g(grids), report as Parameters<typeof core.quickFixes>[1]) as unknown as ReturnType<
        typeof edits.quickFixes
      >;
    } catch {
      return [];
    }
  },
};

/**
 * The draft's grids after a change set the server accepted (core applyEdits: what editDraft stores), so an
 * edit is drawn without reading the whole draft back. Throws as applyEdits does (the caller re-reads).
 */
export function applyLocal(grids: readonly StudioGrid[], ops: EditInput[]): StudioGrid[] {
  const next = core.applyEdits(g(grids), ops as unknown as core.EditInput[]);
  return next.map(({ geometry, ...properties }) => ({ type: 'Feature', geometry, properties }));
}
