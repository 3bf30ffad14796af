/**
 * The spatial join: which base grid (基础网格) holds a point, and so which community, street and
 * district (the prefixes of its code). It sits on the hot path of every reading, so it is built once
 * per grid version into flat typed arrays and queried without allocating.
 *
 * Structure
 * - A uniform cell grid over the extent of the set (about `cellsPerGrid` cells per base grid).
 *   A cell that no grid edge touches is answered directly: the grid that covers it, or none.
 * - A cell crossed by edges keeps a short candidate list, in ascending grid ordinal. Each candidate
 *   points at that grid's edges in the cell's row (a horizontal band), sorted by their east end,
 *   cut to those that reach the cell: a ray cast east from the point only meets edges of its own
 *   band, so the exact point-in-polygon test reads two to four edges per candidate.
 * - flatbush over the grids' bounding boxes answers the build's own questions (who covers this cell).
 *
 * Edge rule (documented contract): a point is in a grid when the crossing number of the ray cast
 * due east from it is odd, where an edge (lower end y1, upper end y2) is crossed when
 * y1 ≤ y < y2 and the point is strictly west of it. Orientation is decided exactly (./orient.ts).
 * This is the same as testing the point nudged by an infinitesimal (ε east, δ ≪ ε north), so:
 * - a point on an edge or vertex shared by grids that tile the plane lies in exactly one of them:
 *   the grid to its east (north, for a horizontal edge); on a vertex, the grid touching it from the
 *   east-north-east;
 * - on the outer boundary of the whole set, west- and south-facing boundaries are inside, east- and
 *   north-facing boundaries are outside (a grid covers its west and south sides, not its east and north);
 * - where grids overlap (an invalid set: topology validation refuses it) the lowest ordinal, i.e. the
 *   smallest code, wins.
 * Rings may be open or closed, clockwise or not; holes and MultiPolygons are honoured (the parity of
 * all rings of a grid together).
 */
import Flatbush from 'flatbush';
import type { MultiPolygon, Polygon } from 'geojson';
import { DomainError } from '../errors.ts';
import { type CodeProfile, DEFAULT_PROFILE, isValidCode } from './codes.ts';
import { orient } from './orient.ts';

export interface BaseGridInput {
  code: string;
  geometry: Polygon | MultiPolygon;
}

/** The four codes of a point's grid hierarchy; all null outside every base grid. */
export interface GridCodes {
  readonly district: string | null;
  readonly street: string | null;
  readonly community: string | null;
  readonly grid: string | null;
}

export const NO_GRID: GridCodes = Object.freeze({ district: null, street: null, community: null, grid: null });

export interface GridIndexOptions {
  profile?: CodeProfile;
  /** Target number of cells per base grid (default 96). More: faster queries, more memory. */
  cellsPerGrid?: number;
  /** Upper bound on the cell count (default 4,000,000). */
  maxCells?: number;
}

/** A growable Float64Array / Int32Array. */
class F64 {
  a: Float64Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Float64Array(cap);
  }
  push4(a: number, b: number, c: number, d: number): void {
    if (this.n + 4 > this.a.length) this.grow(this.n + 4);
    const x = this.a;
    x[this.n] = a;
    x[this.n + 1] = b;
    x[this.n + 2] = c;
    x[this.n + 3] = d;
    this.n += 4;
  }
  grow(min: number): void {
    const b = new Float64Array(Math.max(min, this.a.length * 2));
    b.set(this.a);
    this.a = b;
  }
  done(): Float64Array {
    return this.a.slice(0, this.n);
  }
}
class I32 {
  a: Int32Array;
  n = 0;
  constructor(cap = 1024) {
    this.a = new Int32Array(cap);
  }
  push(v: number): void {
    if (this.n >= this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): Int32Array {
    return this.a.slice(0, this.n);
  }
}

/**
 * Crossing-number test of (px, py) against edges[from, to) (4 doubles per edge: lower end first).
 * The one and only implementation of the edge rule; the batch loop inlines the same code.
 */
function crossingOdd(E: Float64Array, from: number, to: number, px: number, py: number): boolean {
  let inside = false;
  for (let k = from; k < to; k += 4) {
    const y1 = E[k + 1];
    const y2 = E[k + 3];
    if (py < y1 || py >= y2) continue;
    const x1 = E[k];
    const x2 = E[k + 2];
    if (px < x1) {
      if (px < x2 || orient(x1, y1, x2, y2, px, py) > 0) inside = !inside;
    } else if (px < x2 && orient(x1, y1, x2, y2, px, py) > 0) inside = !inside;
  }
  return inside;
}

export class GridIndex {
  readonly profile: CodeProfile;
  /** Number of base grids; ordinals are 0 … size-1, in ascending code order. */
  readonly size: number;
  /** [minX, minY, maxX, maxY] of all grids (lng/lat). */
  readonly bbox: readonly [number, number, number, number];
  readonly cellsX: number;
  readonly cellsY: number;
  /** Cells answered without a point-in-polygon test, as a share of all cells. */
  readonly cleanCellShare: number;

  private readonly codes: string[];
  private readonly paths: GridCodes[];
  private readonly ordinals: Map<string, number>;
  /** All edges, 4 doubles each (lower end first), grouped by grid: grid g owns [gEdge[g], gEdge[g+1]). */
  private readonly edges: Float64Array;
  private readonly gEdge: Int32Array;
  private readonly tree: Flatbush;
  // Cell grid.
  private readonly x0: number;
  private readonly y0: number;
  private readonly invW: number;
  private readonly invH: number;
  /** ≥ 0: the grid covering the cell; -1: no grid; ≤ -2: boundary cell number -2 - v. */
  private readonly cellVal: Int32Array;
  private readonly candStart: Int32Array;
  /** Triples: grid ordinal, start in rowEdges (in doubles), edge count (-1: the grid covers the cell). */
  private readonly cand: Int32Array;
  private readonly rowEdges: Float64Array;

  constructor(grids: readonly BaseGridInput[], options: GridIndexOptions = {}) {
    const profile = (this.profile = options.profile ?? DEFAULT_PROFILE);
    const cellsPerGrid = options.cellsPerGrid ?? 96;
    const maxCells = options.maxCells ?? 4_000_000;

    // Ordinals in code order, so that the answer does not depend on input order.
    const sorted = grids
      .map((g, i) => ({ g, i }))
      .sort((a, b) => (a.g.code < b.g.code ? -1 : a.g.code > b.g.code ? 1 : 0));
    const n = (this.size = sorted.length);
    this.codes = new Array(n);
    this.paths = new Array(n);
    this.ordinals = new Map();
    const L = profile.lengths;
    for (let o = 0; o < n; o++) {
      const code = sorted[o].g.code;
      if (!isValidCode(code, profile, 4)) {
        throw new DomainError('invalid_code', `base grid code "${String(code)}" is not a ${profile.id} base-grid code`);
      }
      if (this.ordinals.has(code)) throw new DomainError('invalid_grid', `duplicate base grid code ${code}`);
      this.ordinals.set(code, o);
      this.codes[o] = code;
      this.paths[o] = Object.freeze({
        district: code.slice(0, L[0]),
        street: code.slice(0, L[1]),
        community: code.slice(0, L[2]),
        grid: code,
      });
    }

    // 1. Edges, per grid, lower end first (for horizontal edges: west end first).
    const E = new F64(Math.max(1024, n * 64));
    const gEdge = new Int32Array(n + 1);
    const gBox = new Float64Array(n * 4);
    let minX = Infinity,
      minY = Infinity,
      maxX = -Infinity,
      maxY = -Infinity;
    for (let o = 0; o < n; o++) {
      gEdge[o] = E.n;
      const geom = sorted[o].g.geometry;
      const polys =
        geom?.type === 'Polygon' ? [geom.coordinates] : geom?.type === 'MultiPolygon' ? geom.coordinates : null;
      if (!polys)
        throw new DomainError('invalid_grid', `grid ${this.codes[o]}: geometry must be a Polygon or MultiPolygon`);
      let bx0 = Infinity,
        by0 = Infinity,
        bx1 = -Infinity,
        by1 = -Infinity;
      for (const poly of polys) {
        for (const ring of poly) {
          const m = ring.length;
          for (let i = 0; i < m; i++) {
            const a = ring[i];
            const b = ring[i + 1 < m ? i + 1 : 0];
            const ax = a[0],
              ay = a[1],
              bx = b[0],
              by = b[1];
            if (!Number.isFinite(ax) || !Number.isFinite(ay)) {
              throw new DomainError('invalid_grid', `grid ${this.codes[o]}: non-finite coordinate`);
            }
            if (ax < bx0) bx0 = ax;
            if (ax > bx1) bx1 = ax;
            if (ay < by0) by0 = ay;
            if (ay > by1) by1 = ay;
            if (ax === bx && ay === by) continue; // closing vertex or a repeated one
            if (ay < by || (ay === by && ax < bx)) E.push4(ax, ay, bx, by);
            else E.push4(bx, by, ax, ay);
          }
        }
      }
      if (bx0 > bx1) throw new DomainError('invalid_grid', `grid ${this.codes[o]}: empty geometry`);
      gBox[o * 4] = bx0;
      gBox[o * 4 + 1] = by0;
      gBox[o * 4 + 2] = bx1;
      gBox[o * 4 + 3] = by1;
      if (bx0 < minX) minX = bx0;
      if (by0 < minY) minY = by0;
      if (bx1 > maxX) maxX = bx1;
      if (by1 > maxY) maxY = by1;
    }
    gEdge[n] = E.n;
    const edges = (this.edges = E.done());
    this.gEdge = gEdge;

    const tree = (this.tree = new Flatbush(Math.max(1, n)));
    for (let o = 0; o < n; o++) tree.add(gBox[o * 4], gBox[o * 4 + 1], gBox[o * 4 + 2], gBox[o * 4 + 3]);
    if (n === 0) tree.add(0, 0, 0, 0);
    tree.finish();

    if (n === 0) {
      minX = minY = 0;
      maxX = maxY = 1;
    }
    this.bbox = Object.freeze([minX, minY, maxX, maxY] as [number, number, number, number]);

    // 2. Cell grid over the extent, padded so every grid lies strictly inside.
    const spanX = maxX - minX,
      spanY = maxY - minY;
    const span = Math.max(spanX, spanY, 1e-9);
    const outerPad = span * 1e-7 + (Math.abs(minX) + Math.abs(maxX) + Math.abs(minY) + Math.abs(maxY)) * 1e-15;
    const X0 = (this.x0 = minX - outerPad);
    const Y0 = (this.y0 = minY - outerPad);
    const W = spanX + 2 * outerPad,
      H = spanY + 2 * outerPad;
    let side = Math.sqrt((W * H) / Math.max(1, n * cellsPerGrid));
    let nx = Math.max(1, Math.ceil(W / side));
    let ny = Math.max(1, Math.ceil(H / side));
    while (nx * ny > maxCells) {
      side *= 1.1;
      nx = Math.max(1, Math.ceil(W / side));
      ny = Math.max(1, Math.ceil(H / side));
    }
    this.cellsX = nx;
    this.cellsY = ny;
    const cw = W / nx,
      ch = H / ny;
    this.invW = nx / W;
    this.invH = ny / H;
    // Cells are tested padded: a point that rounding puts in a neighbouring cell is still covered.
    const px = cw * 1e-6 + (Math.abs(X0) + W) * 1e-14;
    const py = ch * 1e-6 + (Math.abs(Y0) + H) * 1e-14;
    const nCells = nx * ny;

    // 3. Which grids' edges touch which cells (counting sort by cell; grids come out ascending).
    const nE = edges.length >> 2;
    const cellCount = new Int32Array(nCells + 1);
    const eachCellOfEdge = (k: number, fn: (cell: number) => void): void => {
      const x1 = edges[k],
        y1 = edges[k + 1],
        x2 = edges[k + 2],
        y2 = edges[k + 3];
      const ex0 = Math.min(x1, x2),
        ex1 = Math.max(x1, x2);
      const i0 = Math.max(0, Math.floor((ex0 - px - X0) / cw));
      const i1 = Math.min(nx - 1, Math.floor((ex1 + px - X0) / cw));
      const j0 = Math.max(0, Math.floor((y1 - py - Y0) / ch));
      const j1 = Math.min(ny - 1, Math.floor((y2 + py - Y0) / ch));
      const dx = x2 - x1,
        dy = y2 - y1;
      for (let j = j0; j <= j1; j++) {
        const ry0 = Y0 + j * ch - py,
          ry1 = Y0 + (j + 1) * ch + py;
        for (let i = i0; i <= i1; i++) {
          if (i0 !== i1 && j0 !== j1) {
            // Separating-axis test against the segment's line: all four corners strictly on one side.
            const rx0 = X0 + i * cw - px,
              rx1 = X0 + (i + 1) * cw + px;
            const s1 = dx * (ry0 - y1) - dy * (rx0 - x1);
            const s2 = dx * (ry0 - y1) - dy * (rx1 - x1);
            const s3 = dx * (ry1 - y1) - dy * (rx0 - x1);
            const s4 = dx * (ry1 - y1) - dy * (rx1 - x1);
            if ((s1 > 0 && s2 > 0 && s3 > 0 && s4 > 0) || (s1 < 0 && s2 < 0 && s3 < 0 && s4 < 0)) continue;
          }
          fn(j * nx + i);
        }
      }
    };
    for (let k = 0; k < nE * 4; k += 4) eachCellOfEdge(k, (c) => cellCount[c + 1]++);
    for (let c = 0; c < nCells; c++) cellCount[c + 1] += cellCount[c];
    const cellGrids = new Int32Array(cellCount[nCells]);
    const fill = cellCount.slice(0, nCells);
    for (let o = 0; o < n; o++) {
      for (let k = gEdge[o]; k < gEdge[o + 1]; k += 4) eachCellOfEdge(k, (c) => (cellGrids[fill[c]++] = o));
    }

    // 4. Edges by row (non-horizontal only: a horizontal edge is never crossed by the rule).
    const rowCount = new Int32Array(ny + 1);
    const rowsOf = (k: number): [number, number] => [
      Math.max(0, Math.floor((edges[k + 1] - py - Y0) / ch)),
      Math.min(ny - 1, Math.floor((edges[k + 3] + py - Y0) / ch)),
    ];
    for (let k = 0; k < nE * 4; k += 4) {
      if (edges[k + 1] === edges[k + 3]) continue;
      const [j0, j1] = rowsOf(k);
      for (let j = j0; j <= j1; j++) rowCount[j + 1]++;
    }
    for (let j = 0; j < ny; j++) rowCount[j + 1] += rowCount[j];
    const rowEdgeIdx = new Int32Array(rowCount[ny]); // edge offsets (k), by row, grids ascending
    const rowFill = rowCount.slice(0, ny);
    for (let k = 0; k < nE * 4; k += 4) {
      if (edges[k + 1] === edges[k + 3]) continue;
      const [j0, j1] = rowsOf(k);
      for (let j = j0; j <= j1; j++) rowEdgeIdx[rowFill[j]++] = k;
    }
    const edgeGrid = new Int32Array(nE);
    for (let o = 0; o < n; o++) for (let k = gEdge[o]; k < gEdge[o + 1]; k += 4) edgeGrid[k >> 2] = o;

    // 5. Cells inside each grid that its own edges do not touch: scan each grid's rows of cells; a
    //    run of such cells is wholly inside or wholly outside the grid (one exact test decides).
    //    An untouched cell inside a grid is answered by it (the lowest ordinal first); a touched cell
    //    inside another grid (possible only where grids overlap) gets that grid as a covering candidate.
    const cellVal = new Int32Array(nCells).fill(-1);
    const covering = new Map<number, number[]>();
    let mark = new Uint8Array(256);
    for (let o = 0; o < n; o++) {
      const i0 = Math.max(0, Math.floor((gBox[o * 4] - X0) / cw));
      const i1 = Math.min(nx - 1, Math.floor((gBox[o * 4 + 2] - X0) / cw));
      const j0 = Math.max(0, Math.floor((gBox[o * 4 + 1] - Y0) / ch));
      const j1 = Math.min(ny - 1, Math.floor((gBox[o * 4 + 3] - Y0) / ch));
      const w = i1 - i0 + 1,
        h = j1 - j0 + 1;
      if (w * h > mark.length) mark = new Uint8Array(Math.max(w * h, mark.length * 2));
      mark.fill(0, 0, w * h);
      for (let k = gEdge[o]; k < gEdge[o + 1]; k += 4) {
        eachCellOfEdge(k, (c) => {
          const ci = (c % nx) - i0,
            cj = ((c / nx) | 0) - j0;
          if (ci >= 0 && ci < w && cj >= 0 && cj < h) mark[cj * w + ci] = 1;
        });
      }
      for (let j = 0; j < h; j++) {
        let inside = false;
        let inRun = false;
        for (let i = 0; i < w; i++) {
          if (mark[j * w + i]) {
            inRun = false;
            continue;
          }
          if (!inRun) {
            inRun = true;
            inside = crossingOdd(edges, gEdge[o], gEdge[o + 1], X0 + (i0 + i + 0.5) * cw, Y0 + (j0 + j + 0.5) * ch);
          }
          if (!inside) continue;
          const c = (j0 + j) * nx + i0 + i;
          if (cellCount[c] === cellCount[c + 1]) {
            if (cellVal[c] < 0) cellVal[c] = o;
          } else {
            let list = covering.get(c);
            if (!list) covering.set(c, (list = []));
            list.push(o);
          }
        }
      }
    }

    // 6. Boundary cells, row by row: candidates in ascending ordinal, each with its edges in the row.
    const rowEdges = new F64(rowCount[ny] * 4 + 4);
    const candStart = new I32(1024);
    const cand = new I32(4096);
    const rowStart = new Int32Array(n).fill(-1); // (row, grid) → start in rowEdges (doubles)
    const rowLen = new Int32Array(n);
    const touched: number[] = [];
    const eMaxX = (k: number): number => (edges[k] > edges[k + 2] ? edges[k] : edges[k + 2]);
    let clean = 0;
    for (let j = 0; j < ny; j++) {
      // This row's edges, grouped by grid, each group sorted by east end, descending (insertion sort).
      const a = rowCount[j],
        b = rowCount[j + 1];
      let s = a;
      while (s < b) {
        const o = edgeGrid[rowEdgeIdx[s] >> 2];
        let t = s;
        while (t < b && edgeGrid[rowEdgeIdx[t] >> 2] === o) t++;
        for (let p = s + 1; p < t; p++) {
          const k = rowEdgeIdx[p],
            mx = eMaxX(k);
          let q = p - 1;
          while (q >= s && eMaxX(rowEdgeIdx[q]) < mx) {
            rowEdgeIdx[q + 1] = rowEdgeIdx[q];
            q--;
          }
          rowEdgeIdx[q + 1] = k;
        }
        rowStart[o] = rowEdges.n;
        rowLen[o] = t - s;
        touched.push(o);
        for (let p = s; p < t; p++) {
          const k = rowEdgeIdx[p];
          rowEdges.push4(edges[k], edges[k + 1], edges[k + 2], edges[k + 3]);
        }
        s = t;
      }
      for (let i = 0; i < nx; i++) {
        const c = j * nx + i;
        const g0 = cellCount[c],
          g1 = cellCount[c + 1];
        if (g0 === g1) {
          clean++;
          continue;
        }
        const cellX0 = X0 + i * cw - px;
        const cov = covering.get(c);
        cellVal[c] = -2 - candStart.n;
        candStart.push(cand.n);
        let prev = -1;
        let ci = 0;
        for (let q = g0; q <= g1; q++) {
          const o = q < g1 ? cellGrids[q] : 0x7fffffff;
          if (o === prev) continue;
          // Covering grids (rare) merge in, in ordinal order.
          while (cov && ci < cov.length && cov[ci] < o) {
            cand.push(cov[ci++]);
            cand.push(0);
            cand.push(-1);
          }
          if (q === g1) break;
          prev = o;
          const st = rowStart[o];
          let cnt = 0;
          if (st >= 0) {
            const len = rowLen[o];
            const ra = rowEdges.a;
            while (cnt < len && (ra[st + cnt * 4] >= cellX0 || ra[st + cnt * 4 + 2] >= cellX0)) cnt++;
          }
          cand.push(o);
          cand.push(st < 0 ? 0 : st);
          cand.push(cnt);
        }
      }
      for (const o of touched) rowStart[o] = -1;
      touched.length = 0;
    }
    candStart.push(cand.n);
    this.cellVal = cellVal;
    this.candStart = candStart.done();
    this.cand = cand.done();
    this.rowEdges = rowEdges.done();
    this.cleanCellShare = nCells ? clean / nCells : 0;
  }

  /** The ordinal of the base grid holding [lng, lat], or -1. */
  ordinalAt(lng: number, lat: number): number {
    const fx = (lng - this.x0) * this.invW;
    const fy = (lat - this.y0) * this.invH;
    const nx = this.cellsX;
    if (!(fx >= 0 && fx < nx && fy >= 0 && fy < this.cellsY)) return -1;
    const v = this.cellVal[(fy | 0) * nx + (fx | 0)];
    if (v > -2) return v;
    const b = -2 - v;
    const cand = this.cand,
      E = this.rowEdges;
    for (let q = this.candStart[b], end = this.candStart[b + 1]; q < end; q += 3) {
      const cnt = cand[q + 2];
      if (cnt < 0) return cand[q];
      const st = cand[q + 1];
      if (cnt > 0 && crossingOdd(E, st, st + cnt * 4, lng, lat)) return cand[q];
    }
    return -1;
  }

  /** The four codes for a point [lng, lat] (WGS-84); NO_GRID (all null) outside every base grid. */
  join(lng: number, lat: number): GridCodes {
    const o = this.ordinalAt(lng, lat);
    return o < 0 ? NO_GRID : this.paths[o];
  }

  /**
   * Batch join over typed arrays: out[i] = ordinal of the base grid holding (lngs[i], lats[i]), or -1.
   * Allocation-free; `codeOf(ordinal)` / `codesOf(ordinal)` turn ordinals into codes.
   */
  joinBatch(lngs: Float64Array | Float32Array, lats: Float64Array | Float32Array, out: Int32Array): Int32Array {
    const len = Math.min(lngs.length, lats.length, out.length);
    const x0 = this.x0,
      y0 = this.y0,
      invW = this.invW,
      invH = this.invH,
      nx = this.cellsX,
      ny = this.cellsY;
    const cellVal = this.cellVal,
      candStart = this.candStart,
      cand = this.cand,
      E = this.rowEdges;
    for (let i = 0; i < len; i++) {
      const x = lngs[i],
        y = lats[i];
      const fx = (x - x0) * invW;
      const fy = (y - y0) * invH;
      if (!(fx >= 0 && fx < nx && fy >= 0 && fy < ny)) {
        out[i] = -1;
        continue;
      }
      const v = cellVal[(fy | 0) * nx + (fx | 0)];
      if (v > -2) {
        out[i] = v;
        continue;
      }
      const b = -2 - v;
      let res = -1;
      for (let q = candStart[b], end = candStart[b + 1]; q < end; q += 3) {
        const cnt = cand[q + 2];
        if (cnt < 0) {
          res = cand[q];
          break;
        }
        let inside = false;
        for (let k = cand[q + 1], kEnd = k + cnt * 4; k < kEnd; k += 4) {
          const y1 = E[k + 1];
          const y2 = E[k + 3];
          if (y < y1 || y >= y2) continue;
          const x1 = E[k];
          const x2 = E[k + 2];
          if (x < x1) {
            if (x < x2 || orient(x1, y1, x2, y2, x, y) > 0) inside = !inside;
          } else if (x < x2 && orient(x1, y1, x2, y2, x, y) > 0) inside = !inside;
        }
        if (inside) {
          res = cand[q];
          break;
        }
      }
      out[i] = res;
    }
    return out;
  }

  /** The base-grid code of an ordinal (null for -1). */
  codeOf(ordinal: number): string | null {
    return ordinal >= 0 && ordinal < this.size ? this.codes[ordinal] : null;
  }

  /** The four codes of an ordinal (NO_GRID for -1). */
  codesOf(ordinal: number): GridCodes {
    return ordinal >= 0 && ordinal < this.size ? this.paths[ordinal] : NO_GRID;
  }

  ordinalOf(code: string): number {
    return this.ordinals.get(code) ?? -1;
  }

  /** Whether grid `ordinal` holds the point by the edge rule, tested against all its edges (no cells). */
  contains(ordinal: number, lng: number, lat: number): boolean {
    return crossingOdd(this.edges, this.gEdge[ordinal], this.gEdge[ordinal + 1], lng, lat);
  }

  /** Ordinals of grids whose bounding box meets the box, ascending. */
  search(minX: number, minY: number, maxX: number, maxY: number): number[] {
    if (this.size === 0) return [];
    return this.tree.search(minX, minY, maxX, maxY).sort((a, b) => a - b);
  }

  /** Approximate bytes held by the index's arrays (not counting the code strings). */
  get memoryBytes(): number {
    return (
      this.edges.byteLength +
      this.gEdge.byteLength +
      this.cellVal.byteLength +
      this.candStart.byteLength +
      this.cand.byteLength +
      this.rowEdges.byteLength +
      this.tree.data.byteLength
    );
  }
}

export function buildGridIndex(
  grids: readonly BaseGridInput[],
  options: GridIndexOptions | CodeProfile = {},
): GridIndex {
  const opts: GridIndexOptions =
    'lengths' in options ? { profile: options as CodeProfile } : (options as GridIndexOptions);
  return new GridIndex(grids, opts);
}

/**
 * Holds the current index. A new grid version is built aside and swapped in with one assignment;
 * a join reads the index once at its start, so joins (and batches) in flight finish on the index
 * they began with, and no join ever waits for a rebuild.
 */
export class GridJoiner {
  #index: GridIndex | null;
  #version = 0;

  constructor(index: GridIndex | null = null) {
    this.#index = index;
    if (index) this.#version = 1;
  }

  get index(): GridIndex | null {
    return this.#index;
  }

  /** Incremented on every swap. */
  get version(): number {
    return this.#version;
  }

  /** Swap in a new index; returns the previous one. */
  replace(next: GridIndex): GridIndex | null {
    const prev = this.#index;
    this.#index = next;
    this.#version++;
    return prev;
  }

  /** Build an index for `grids` aside, then swap it in. A build error leaves the current index in place. */
  rebuild(grids: readonly BaseGridInput[], options?: GridIndexOptions): GridIndex {
    const next = new GridIndex(grids, options);
    this.replace(next);
    return next;
  }

  join(lng: number, lat: number): GridCodes {
    const index = this.#index;
    return index ? index.join(lng, lat) : NO_GRID;
  }

  /** Batch join on the current index; returns that index so ordinals can be turned into codes. */
  joinBatch(lngs: Float64Array, lats: Float64Array, out: Int32Array): GridIndex | null {
    const index = this.#index;
    if (index) index.joinBatch(lngs, lats, out);
    else out.fill(-1);
    return index;
  }
}
