/**
 * The geometry of the synthetic sample district: an exact planar partition in four levels
 * (district → 街道 street → 社区 community → 基础网格 base grid).
 *
 * How it stays exact: everything is built on one fine lattice of warped quadrilateral cells whose
 * vertices and edge wiggles are computed once. Each level labels the cells (every street is a set of
 * district cells, every community a set of its street's cells, every grid a set of its community's
 * cells), and every polygon is the boundary walk of its cell set. A shared boundary is therefore the same
 * lattice edges with the same (already rounded) coordinates on both sides: no gaps, no overlaps, no
 * T-junctions, and a parent's ring is exactly the outer edges of its children's rings.
 *
 * Lattice: cell (i, j) spans vertices (i, j)..(i+1, j+1); i grows east, j grows north. Vertex (i, j) has id
 * j·(W+1)+i. Coordinates are built in a local metric frame (metres east/north of the centre) and converted
 * to [lng, lat] (WGS-84) with an equirectangular projection, which at this size (≈5 km) is plenty for a
 * synthetic sample.
 */
import { fractalNoise, hashUnit, substream } from './prng.ts';

/** Centre of the sample district, [lng, lat]. */
export const CENTRE: readonly [number, number] = [117.15, 39.17];
/** Target area in m² (CONTRACT: about 21 km²). */
export const TARGET_AREA_M2 = 21_000_000;
export const STREET_COUNT = 10;
export const COMMUNITY_COUNT = 123;
export const BASE_GRID_COUNT = 992;

/** Lattice cells per base grid on average: with SUBDIV points per lattice edge this gives ≈ 20–80 vertices a grid. */
const CELLS_PER_GRID = 16;
/** Points per lattice edge on a ring: the start vertex plus SUBDIV-1 wiggled interior points. */
const SUBDIV = 2;
/** Metres per degree on the sphere of radius 6 371 008.8 m (the radius turf uses for areas). */
const M_PER_DEG_LAT = 111195.08023353292;
/** M_PER_DEG_LAT · cos(39.17°), written out so that no trigonometry enters the output. */
const M_PER_DEG_LNG = 86206.80054653248;

// Stream ids of the noise fields and random streams (see prng.ts `substream`).
const S_SHAPE = 11;
const S_JITTER = 12;
const S_WIGGLE = 13;
const S_WARP = 14;
const S_LEVEL = 20; // + level

export function round7(x: number): number {
  return Math.round(x * 1e7) / 1e7;
}

/** Labels of one partition level: label per cell (-1 outside the district) and each label's parent label. */
interface Level {
  label: Int32Array;
  count: number;
  parentOf: Int32Array;
}

export interface Lattice {
  W: number;
  H: number;
  /** Cell size in metres. */
  h: number;
  /** Vertex metric coordinates (before projection), per vertex id. */
  mx: Float64Array;
  my: Float64Array;
  /** Vertex [lng, lat], rounded to 7 decimals, per vertex id. */
  lng: Float64Array;
  lat: Float64Array;
  /** Wiggled interior points of horizontal edges (id j·W+i) and vertical edges (id = lower vertex id), [lng, lat] rounded. */
  hMid: Float64Array;
  vMid: Float64Array;
}

export interface DistrictGeometry {
  lattice: Lattice;
  /** Cell labels per level, renumbered in code order: street 0..9, community 0..122, grid 0..N-1; -1 outside. */
  street: Int32Array;
  community: Int32Array;
  grid: Int32Array;
  /** Parent of each community (street index) and of each grid (community index), in code order. */
  communityStreet: Int32Array;
  gridCommunity: Int32Array;
  /** Number of siblings before it + 1: the 3-digit code part of each street, community and grid. */
  streetSeq: Int32Array;
  communitySeq: Int32Array;
  gridSeq: Int32Array;
  /** Outer rings, [lng, lat] closed and counter-clockwise, per level in code order. */
  districtRing: number[][];
  streetRings: number[][][];
  communityRings: number[][][];
  gridRings: number[][][];
  /** Cells (lattice indices) of each grid, in index order. */
  gridCells: number[][];
}

/** Builds the lattice, the four levels of labels and their rings. `density` 1 gives 992 base grids, 10 gives 9,920. */
export function buildDistrictGeometry(density: number, seed: number): DistrictGeometry {
  const gridCount = BASE_GRID_COUNT * density;
  const h = Math.sqrt(TARGET_AREA_M2 / (gridCount * CELLS_PER_GRID));
  const r0 = Math.sqrt(TARGET_AREA_M2 / Math.PI);
  const ax = r0 * 1.18;
  const ay = r0 / 1.18;
  const halfExtent = ax * 1.45;
  const W = Math.ceil((2 * halfExtent) / h) + 2;
  const H = Math.ceil((2 * ay * 1.45 * 1.18) / h) + 2;
  const x0 = -(W * h) / 2;
  const y0 = -(H * h) / 2;
  const cellX = (c: number) => x0 + ((c % W) + 0.5) * h;
  const cellY = (c: number) => y0 + (Math.floor(c / W) + 0.5) * h;
  const nCells = W * H;

  const lattice = buildLattice(W, H, h, x0, y0, seed);

  // 1. The district: the cells with the lowest value of a noisy elliptical shape function, as many as make the
  //    target area; then one 4-connected piece without holes or pinches.
  const shape = new Float64Array(nCells);
  for (let c = 0; c < nCells; c++) {
    const x = cellX(c);
    const y = cellY(c);
    const e = Math.sqrt((x / ax) * (x / ax) + (y / ay) * (y / ay));
    shape[c] = e + 0.45 * (fractalNoise(hashSeed(seed, S_SHAPE), x / 1400 + 50, y / 1400 + 50) - 0.5);
  }
  const order = Array.from({ length: nCells }, (_, c) => c).sort((a, b) => shape[a] - shape[b] || a - b);
  const take = Math.round(TARGET_AREA_M2 / (h * h));
  const inside = new Int32Array(nCells); // 1 inside, 0 outside: both are real labels here
  for (let k = 0; k < take; k++) inside[order[k]] = 1;
  const districtLevel: Level = { label: inside, count: 2, parentOf: new Int32Array([0, 0]) };
  keepLargestAndFillHoles(inside, W, H);
  fixPinches(districtLevel, W, H, true);
  keepLargestAndFillHoles(inside, W, H);
  fixPinches(districtLevel, W, H, true);
  const district = new Int32Array(nCells).fill(-1);
  for (let c = 0; c < nCells; c++) if (inside[c] === 1) district[c] = 0;
  const top: Level = { label: district, count: 1, parentOf: new Int32Array([-1]) };

  // 2. Streets, communities and grids: each a warped Lloyd (discrete centroidal Voronoi) partition of its parent.
  const streets = partitionLevel(
    top,
    [STREET_COUNT],
    2,
    seed,
    W,
    cellX,
    cellY,
    Math.sqrt(TARGET_AREA_M2 / STREET_COUNT),
  );
  const streetCells = countByLabel(streets.label, streets.count);
  const perStreet = apportion(streetCells, COMMUNITY_COUNT);
  const communities = partitionLevel(
    streets,
    perStreet,
    3,
    seed,
    W,
    cellX,
    cellY,
    Math.sqrt(TARGET_AREA_M2 / COMMUNITY_COUNT),
  );
  const communityCells = countByLabel(communities.label, communities.count);
  const perCommunity = apportion(communityCells, gridCount);
  const grids = partitionLevel(
    communities,
    perCommunity,
    4,
    seed,
    W,
    cellX,
    cellY,
    Math.sqrt(TARGET_AREA_M2 / gridCount),
  );

  // 3. Code order: reading order (north→south rows, west→east in a row) among siblings, top down.
  const streetOrder = readingOrder(streets, top, cellX, cellY);
  const communityOrder = readingOrder(communities, streets, cellX, cellY, streetOrder.rank);
  const gridOrder = readingOrder(grids, communities, cellX, cellY, communityOrder.rank);

  const relabel = (lv: Level, rank: Int32Array) => {
    const out = new Int32Array(lv.label.length);
    for (let c = 0; c < out.length; c++) out[c] = lv.label[c] < 0 ? -1 : rank[lv.label[c]];
    return out;
  };
  const street = relabel(streets, streetOrder.rank);
  const community = relabel(communities, communityOrder.rank);
  const grid = relabel(grids, gridOrder.rank);
  const communityStreet = new Int32Array(communities.count);
  for (let k = 0; k < communities.count; k++)
    communityStreet[communityOrder.rank[k]] = streetOrder.rank[communities.parentOf[k]];
  const gridCommunity = new Int32Array(grids.count);
  for (let k = 0; k < grids.count; k++) gridCommunity[gridOrder.rank[k]] = communityOrder.rank[grids.parentOf[k]];

  const districtRing = ringsOfLabels(district, 1, lattice)[0];
  const streetRings = ringsOfLabels(street, streets.count, lattice);
  const communityRings = ringsOfLabels(community, communities.count, lattice);
  const gridRings = ringsOfLabels(grid, grids.count, lattice);
  const gridCells: number[][] = Array.from({ length: grids.count }, () => []);
  for (let c = 0; c < nCells; c++) if (grid[c] >= 0) gridCells[grid[c]].push(c);

  return {
    lattice,
    street,
    community,
    grid,
    communityStreet,
    gridCommunity,
    streetSeq: seqWithinParent(new Int32Array(streets.count)),
    communitySeq: seqWithinParent(communityStreet),
    gridSeq: seqWithinParent(gridCommunity),
    districtRing,
    streetRings,
    communityRings,
    gridRings,
    gridCells,
  };
}

/** A point strictly inside cell c at fractions (u, v) ∈ [0.3, 0.7]² of its corners (bilinear), [lng, lat] rounded. */
export function pointInCell(lattice: Lattice, c: number, u: number, v: number): [number, number] {
  const { W, mx, my } = lattice;
  const i = c % W;
  const j = Math.floor(c / W);
  const a = j * (W + 1) + i;
  const b = a + 1;
  const d = a + W + 1;
  const e = d + 1;
  const x = (1 - v) * ((1 - u) * mx[a] + u * mx[b]) + v * ((1 - u) * mx[d] + u * mx[e]);
  const y = (1 - v) * ((1 - u) * my[a] + u * my[b]) + v * ((1 - u) * my[d] + u * my[e]);
  return [round7(CENTRE[0] + x / M_PER_DEG_LNG), round7(CENTRE[1] + y / M_PER_DEG_LAT)];
}

function hashSeed(seed: number, stream: number): number {
  return (Math.imul(seed, 1000003) + stream * 7919) | 0;
}

function buildLattice(W: number, H: number, h: number, x0: number, y0: number, seed: number): Lattice {
  const nV = (W + 1) * (H + 1);
  const mx = new Float64Array(nV);
  const my = new Float64Array(nV);
  const lng = new Float64Array(nV);
  const lat = new Float64Array(nV);
  const sJ = hashSeed(seed, S_JITTER);
  const sW = hashSeed(seed, S_WARP);
  // A gentle large-scale warp (amplitude 70 m over ≈ 900 m: slope well below 1, so cells never fold) bends
  // the lattice rows into curves; a per-vertex jitter of ±18 % of a cell breaks the grid pattern.
  const warpA = 70;
  const warpL = 900;
  for (let j = 0; j <= H; j++) {
    for (let i = 0; i <= W; i++) {
      const v = j * (W + 1) + i;
      const bx = x0 + i * h;
      const by = y0 + j * h;
      const wx = warpA * (fractalNoise(sW, bx / warpL + 10, by / warpL + 10) - 0.5) * 2;
      const wy = warpA * (fractalNoise(sW + 7, bx / warpL + 30, by / warpL + 30) - 0.5) * 2;
      const x = bx + wx + (hashUnit(sJ, i, j) - 0.5) * 0.36 * h;
      const y = by + wy + (hashUnit(sJ + 1, i, j) - 0.5) * 0.36 * h;
      mx[v] = x;
      my[v] = y;
      lng[v] = round7(CENTRE[0] + x / M_PER_DEG_LNG);
      lat[v] = round7(CENTRE[1] + y / M_PER_DEG_LAT);
    }
  }
  // Interior points of each edge: evenly spaced along it, pushed sideways by up to ±12 % of a cell.
  const k = SUBDIV - 1;
  const hMid = new Float64Array(W * (H + 1) * k * 2);
  const vMid = new Float64Array((W + 1) * H * k * 2);
  const sWg = hashSeed(seed, S_WIGGLE);
  const mid = (out: Float64Array, id: number, a: number, b: number, salt: number) => {
    const dx = mx[b] - mx[a];
    const dy = my[b] - my[a];
    const len = Math.sqrt(dx * dx + dy * dy);
    for (let t = 1; t <= k; t++) {
      const off = (hashUnit(sWg + salt, id, t) - 0.5) * 0.24 * h;
      const x = mx[a] + (dx * t) / SUBDIV - (dy / len) * off;
      const y = my[a] + (dy * t) / SUBDIV + (dx / len) * off;
      out[(id * k + t - 1) * 2] = round7(CENTRE[0] + x / M_PER_DEG_LNG);
      out[(id * k + t - 1) * 2 + 1] = round7(CENTRE[1] + y / M_PER_DEG_LAT);
    }
  };
  for (let j = 0; j <= H; j++)
    for (let i = 0; i < W; i++) mid(hMid, j * W + i, j * (W + 1) + i, j * (W + 1) + i + 1, 0);
  for (let j = 0; j < H; j++)
    for (let i = 0; i <= W; i++) mid(vMid, j * (W + 1) + i, j * (W + 1) + i, (j + 1) * (W + 1) + i, 1);
  return { W, H, h, mx, my, lng, lat, hMid, vMid };
}

/** Neighbours of cell c in the order S, E, N, W (-1 beyond the lattice). */
function neighbours(c: number, W: number, H: number, out: Int32Array): Int32Array {
  const i = c % W;
  const j = (c - i) / W;
  out[0] = j > 0 ? c - W : -1;
  out[1] = i < W - 1 ? c + 1 : -1;
  out[2] = j < H - 1 ? c + W : -1;
  out[3] = i > 0 ? c - 1 : -1;
  return out;
}

/** Keeps the largest 4-connected piece of the inside (label 1) and fills every hole not connected to the border. */
function keepLargestAndFillHoles(inside: Int32Array, W: number, H: number): void {
  const n = W * H;
  const comp = new Int32Array(n).fill(-1);
  const nb = new Int32Array(4);
  let best = -1;
  let bestSize = 0;
  let id = 0;
  const stack: number[] = [];
  for (let s = 0; s < n; s++) {
    if (inside[s] !== 1 || comp[s] >= 0) continue;
    let size = 0;
    comp[s] = id;
    stack.push(s);
    while (stack.length) {
      const c = stack.pop()!;
      size++;
      for (const m of neighbours(c, W, H, nb))
        if (m >= 0 && inside[m] === 1 && comp[m] < 0) {
          comp[m] = id;
          stack.push(m);
        }
    }
    if (size > bestSize) {
      best = id;
      bestSize = size;
    }
    id++;
  }
  for (let c = 0; c < n; c++) if (inside[c] === 1 && comp[c] !== best) inside[c] = 0;
  // Outside cells reachable from the lattice border stay outside; the rest are holes and join the inside.
  const seen = new Uint8Array(n);
  for (let c = 0; c < n; c++) {
    const i = c % W;
    const j = (c - i) / W;
    if ((i === 0 || j === 0 || i === W - 1 || j === H - 1) && inside[c] === 0) {
      seen[c] = 1;
      stack.push(c);
    }
  }
  while (stack.length) {
    const c = stack.pop()!;
    for (const m of neighbours(c, W, H, nb))
      if (m >= 0 && inside[m] === 0 && !seen[m]) {
        seen[m] = 1;
        stack.push(m);
      }
  }
  for (let c = 0; c < n; c++) if (inside[c] === 0 && !seen[c]) inside[c] = 1;
}

/**
 * Partitions every parent region into its number of children: Lloyd's iterations (a discrete centroidal
 * Voronoi partition, so children have similar sizes) in a noise-warped copy of the plane (so borders curve),
 * then repairs: each child keeps its largest connected piece (stray pieces go to a neighbouring sibling) and
 * diagonal pinches are removed so every ring is simple.
 */
function partitionLevel(
  parent: Level,
  childrenPerParent: number[],
  levelNo: number,
  seed: number,
  W: number,
  cellX: (c: number) => number,
  cellY: (c: number) => number,
  regionSize: number,
): Level {
  const n = parent.label.length;
  const H = n / W;
  const rand = substream(seed, S_LEVEL + levelNo);
  const sWarp = hashSeed(seed, S_LEVEL + levelNo);
  const warpL = regionSize * 0.9;
  const warpA = regionSize * 0.3;
  const byParent: number[][] = Array.from({ length: parent.count }, () => []);
  for (let c = 0; c < n; c++) if (parent.label[c] >= 0) byParent[parent.label[c]].push(c);

  const label = new Int32Array(n).fill(-1);
  const parentOf: number[] = [];
  let base = 0;
  for (let p = 0; p < parent.count; p++) {
    const cells = byParent[p];
    const k = childrenPerParent[p];
    if (k < 1 || cells.length < k) throw new Error(`level ${levelNo}: parent ${p} cannot hold ${k} children`);
    const px = new Float64Array(cells.length);
    const py = new Float64Array(cells.length);
    for (let q = 0; q < cells.length; q++) {
      const x = cellX(cells[q]);
      const y = cellY(cells[q]);
      px[q] = x + warpA * 2 * (fractalNoise(sWarp, x / warpL + 5, y / warpL + 5) - 0.5);
      py[q] = y + warpA * 2 * (fractalNoise(sWarp + 3, x / warpL + 9, y / warpL + 9) - 0.5);
    }
    const assign = lloyd(px, py, k, rand);
    for (let q = 0; q < cells.length; q++) label[cells[q]] = base + assign[q];
    for (let t = 0; t < k; t++) parentOf.push(p);
    base += k;
  }
  const level: Level = { label, count: base, parentOf: Int32Array.from(parentOf) };
  keepLargestPieces(level, W, H);
  let labelled = 0;
  for (const cells of byParent) labelled += cells.length;
  const minCells = Math.max(6, Math.floor((0.4 * labelled) / base));
  growSmall(level, W, H, minCells);
  fixPinches(level, W, H, false, minCells);
  growSmall(level, W, H, minCells);
  fixPinches(level, W, H, false, minCells);
  const sizes = countByLabel(label, level.count);
  for (let t = 0; t < level.count; t++) if (sizes[t] === 0) throw new Error(`level ${levelNo}: child ${t} is empty`);
  return level;
}

/** k-means on points with seeds drawn from them; returns each point's cluster, every cluster non-empty. */
function lloyd(px: Float64Array, py: Float64Array, k: number, rand: () => number): Int32Array {
  const m = px.length;
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  const used = new Set<number>();
  for (let t = 0; t < k; t++) {
    let q = Math.floor(rand() * m);
    while (used.has(q)) q = (q + 1) % m;
    used.add(q);
    sx[t] = px[q];
    sy[t] = py[q];
  }
  const assign = new Int32Array(m);
  const sumX = new Float64Array(k);
  const sumY = new Float64Array(k);
  const cnt = new Int32Array(k);
  const assignAll = () => {
    for (let q = 0; q < m; q++) {
      let best = 0;
      let bd = Infinity;
      for (let t = 0; t < k; t++) {
        const dx = px[q] - sx[t];
        const dy = py[q] - sy[t];
        const d = dx * dx + dy * dy;
        if (d < bd) {
          bd = d;
          best = t;
        }
      }
      assign[q] = best;
    }
    cnt.fill(0);
    for (let q = 0; q < m; q++) cnt[assign[q]]++;
  };
  for (let iter = 0; iter < 14; iter++) {
    assignAll();
    sumX.fill(0);
    sumY.fill(0);
    for (let q = 0; q < m; q++) {
      sumX[assign[q]] += px[q];
      sumY[assign[q]] += py[q];
    }
    for (let t = 0; t < k; t++) {
      if (cnt[t] > 0) {
        sx[t] = sumX[t] / cnt[t];
        sy[t] = sumY[t] / cnt[t];
      } else {
        // An empty cluster restarts at a random point.
        const q = Math.floor(rand() * m);
        sx[t] = px[q];
        sy[t] = py[q];
      }
    }
  }
  assignAll();
  // A cluster still empty takes the point nearest its seed from a cluster that can spare it.
  for (let t = 0; t < k; t++) {
    if (cnt[t] > 0) continue;
    let best = -1;
    let bd = Infinity;
    for (let q = 0; q < m; q++) {
      if (cnt[assign[q]] <= 1) continue;
      const d = (px[q] - sx[t]) ** 2 + (py[q] - sy[t]) ** 2;
      if (d < bd) {
        bd = d;
        best = q;
      }
    }
    cnt[assign[best]]--;
    assign[best] = t;
    cnt[t] = 1;
  }
  return assign;
}

/**
 * Children smaller than `minCells` (stray Lloyd cells at a parent's edge) take adjacent cells from siblings
 * that can spare them, so that no base grid is a sliver with too few vertices.
 */
function growSmall(level: Level, W: number, H: number, minCells: number): void {
  const { label, parentOf } = level;
  const sizes = countByLabel(label, level.count);
  const queue: number[] = [];
  for (let l = 0; l < level.count; l++) if (sizes[l] < minCells) queue.push(l);
  if (queue.length === 0) return;
  const members: number[][] = Array.from({ length: level.count }, () => []);
  for (let c = 0; c < label.length; c++) if (label[c] >= 0) members[label[c]].push(c);
  const nb = new Int32Array(4);
  const nb2 = new Int32Array(4);
  // A deficit moves outwards: a small child takes a cell from its largest sibling neighbour; a neighbour
  // left below the minimum by that joins the queue. `gaveTo` stops two children trading one cell forever.
  const gaveTo = new Int32Array(level.count).fill(-1);
  let budget = 50 * level.count;
  while (queue.length > 0 && budget-- > 0) {
    const l = queue[0];
    if (sizes[l] >= minCells) {
      queue.shift();
      continue;
    }
    let bestCell = -1;
    let bestDonor = -1;
    for (const c of members[l]) {
      for (const m of Array.from(neighbours(c, W, H, nb))) {
        const d = m < 0 ? -1 : label[m];
        if (d < 0 || d === l || parentOf[d] !== parentOf[l] || gaveTo[l] === d || sizes[d] < minCells) continue;
        if (bestDonor >= 0 && sizes[d] <= sizes[bestDonor]) continue;
        if (!staysConnected(label, m, W, H, sizes[d], nb2)) continue;
        bestCell = m;
        bestDonor = d;
      }
    }
    if (bestCell < 0) {
      queue.shift(); // nothing to take: leave it as it is
      continue;
    }
    sizes[bestDonor]--;
    sizes[l]++;
    label[bestCell] = l;
    members[bestDonor].splice(members[bestDonor].indexOf(bestCell), 1);
    members[l].push(bestCell);
    gaveTo[bestDonor] = l;
    if (sizes[bestDonor] < minCells) queue.push(bestDonor);
  }
}

/** Each child keeps its largest 4-connected piece; the other pieces go, cell by cell, to an adjacent sibling. */
function keepLargestPieces(level: Level, W: number, H: number): void {
  const { label } = level;
  const n = label.length;
  const comp = new Int32Array(n).fill(-1);
  const nb = new Int32Array(4);
  const bestComp = new Int32Array(level.count).fill(-1);
  const bestSize = new Int32Array(level.count);
  const stack: number[] = [];
  let id = 0;
  for (let s = 0; s < n; s++) {
    if (label[s] < 0 || comp[s] >= 0) continue;
    const l = label[s];
    let size = 0;
    comp[s] = id;
    stack.push(s);
    while (stack.length) {
      const c = stack.pop()!;
      size++;
      for (const m of neighbours(c, W, H, nb))
        if (m >= 0 && label[m] === l && comp[m] < 0) {
          comp[m] = id;
          stack.push(m);
        }
    }
    if (size > bestSize[l]) {
      bestSize[l] = size;
      bestComp[l] = id;
    }
    id++;
  }
  const orphan = new Uint8Array(n);
  let left = 0;
  for (let c = 0; c < n; c++) {
    if (label[c] >= 0 && comp[c] !== bestComp[label[c]]) {
      orphan[c] = 1;
      left++;
    }
  }
  while (left > 0) {
    let moved = 0;
    for (let c = 0; c < n; c++) {
      if (!orphan[c]) continue;
      const p = level.parentOf[label[c]];
      for (const m of neighbours(c, W, H, nb)) {
        if (m >= 0 && label[m] >= 0 && !orphan[m] && level.parentOf[label[m]] === p) {
          label[c] = label[m];
          orphan[c] = 0;
          left--;
          moved++;
          break;
        }
      }
    }
    if (moved === 0) throw new Error('orphan cells with no sibling neighbour');
  }
}

/**
 * Removes diagonal pinches: at a lattice vertex where a region holds two diagonally opposite cells and
 * neither of the other two, its boundary would touch itself (not a simple ring). One of the four cells
 * moves to a region of the same parent, keeping every region connected. A pinch of a child region is
 * always fixable inside the parent, because the parent level has no pinches.
 */
function fixPinches(level: Level, W: number, H: number, outsideIsRegion: boolean, minCells = 1): void {
  const { label, parentOf } = level;
  const sizes = countByLabel(label, level.count);
  const nb = new Int32Array(4);
  const movable = (c: number, to: number) => {
    const from = label[c];
    if (from === to) return false;
    if (!outsideIsRegion && (from < 0 || to < 0)) return false;
    if (parentOf[from] !== parentOf[to]) return false;
    if (sizes[from] <= minCells) return false;
    return staysConnected(label, c, W, H, sizes[from], nb);
  };
  for (let pass = 0; pass < 200; pass++) {
    let found = 0;
    for (let j = 1; j < H; j++) {
      for (let i = 1; i < W; i++) {
        const sw = (j - 1) * W + i - 1;
        const se = sw + 1;
        const nw = sw + W;
        const ne = nw + 1;
        const L = (c: number) => label[c];
        let diag: [number, number, number, number] | null = null; // a1, a2 (same region), b1, b2
        if (L(sw) === L(ne) && L(sw) !== L(se) && L(sw) !== L(nw)) diag = [sw, ne, se, nw];
        else if (L(se) === L(nw) && L(se) !== L(sw) && L(se) !== L(ne)) diag = [se, nw, sw, ne];
        if (!diag) continue;
        if (!outsideIsRegion && L(diag[0]) < 0) continue; // the outside may touch itself; the district ring does not
        found++;
        const [a1, a2, b1, b2] = diag;
        const a = label[a1];
        const moves: [number, number][] = [
          [b1, a],
          [b2, a],
          [a1, label[b1]],
          [a1, label[b2]],
          [a2, label[b1]],
          [a2, label[b2]],
        ];
        for (const [c, to] of moves) {
          if (movable(c, to)) {
            sizes[label[c]]--;
            sizes[to]++;
            label[c] = to;
            break;
          }
        }
      }
    }
    if (found === 0) return;
  }
  throw new Error('could not remove every diagonal pinch');
}

/** Whether region label[c] stays 4-connected without cell c. */
function staysConnected(label: Int32Array, c: number, W: number, H: number, size: number, nb: Int32Array): boolean {
  const l = label[c];
  let start = -1;
  for (const m of neighbours(c, W, H, nb)) if (m >= 0 && label[m] === l) start = m;
  if (start < 0) return false;
  const seen = new Set<number>([c, start]);
  const stack = [start];
  const nb2 = new Int32Array(4);
  let reached = 1;
  while (stack.length) {
    const x = stack.pop()!;
    for (const m of neighbours(x, W, H, nb2)) {
      if (m >= 0 && label[m] === l && !seen.has(m)) {
        seen.add(m);
        stack.push(m);
        reached++;
      }
    }
  }
  return reached === size - 1;
}

function countByLabel(label: Int32Array, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let c = 0; c < label.length; c++) if (label[c] >= 0) out[label[c]]++;
  return out;
}

/** Splits `total` over the weights by largest remainder (ties to the lower index), at least 1 each. */
function apportion(weights: Int32Array, total: number): number[] {
  let sum = 0;
  for (const w of weights) sum += w;
  const exact = Array.from(weights, (w) => (w * total) / sum);
  const out = exact.map((e) => Math.max(1, Math.floor(e)));
  let left = total - out.reduce((s, x) => s + x, 0);
  const byRem = exact
    .map((e, k) => k)
    .sort((a, b) => exact[b] - Math.floor(exact[b]) - (exact[a] - Math.floor(exact[a])) || a - b);
  for (let q = 0; left > 0; q = (q + 1) % byRem.length, left--) out[byRem[q]]++;
  if (left < 0) throw new Error('cannot apportion');
  return out;
}

/**
 * Code order among siblings, the DB11/T 2157-2023 layout: north→south, then west→east. Rule: siblings are
 * sorted by the latitude of their centroid (mean of their cell centres), northernmost first; a row starts
 * with the northernmost sibling not yet placed and takes every sibling whose centroid lies less than half a
 * typical sibling's size (√(mean cell count)·h/2) south of that first one; within a row, west→east by
 * centroid longitude. Parents are ordered first (`parentRank`), so children's ranks follow their parents'.
 */
function readingOrder(
  level: Level,
  parent: Level,
  cellX: (c: number) => number,
  cellY: (c: number) => number,
  parentRank?: Int32Array,
): { rank: Int32Array } {
  const sx = new Float64Array(level.count);
  const sy = new Float64Array(level.count);
  const cnt = new Int32Array(level.count);
  for (let c = 0; c < level.label.length; c++) {
    const l = level.label[c];
    if (l < 0) continue;
    sx[l] += cellX(c);
    sy[l] += cellY(c);
    cnt[l]++;
  }
  const h = cellX(1) - cellX(0);
  const groups: number[][] = Array.from({ length: parent.count }, () => []);
  for (let l = 0; l < level.count; l++) groups[level.parentOf[l]].push(l);
  const parentsInOrder = Array.from({ length: parent.count }, (_, p) => p);
  if (parentRank) parentsInOrder.sort((a, b) => parentRank[a] - parentRank[b]);
  const rank = new Int32Array(level.count);
  let next = 0;
  for (const p of parentsInOrder) {
    const sibs = groups[p];
    const cx = (l: number) => sx[l] / cnt[l];
    const cy = (l: number) => sy[l] / cnt[l];
    const meanCells = sibs.reduce((s, l) => s + cnt[l], 0) / sibs.length;
    const tol = (Math.sqrt(meanCells) * h) / 2;
    const byLat = [...sibs].sort((a, b) => cy(b) - cy(a) || a - b);
    let q = 0;
    while (q < byLat.length) {
      const top = cy(byLat[q]);
      const row: number[] = [];
      while (q < byLat.length && top - cy(byLat[q]) < tol) row.push(byLat[q++]);
      row.sort((a, b) => cx(a) - cx(b) || a - b);
      for (const l of row) rank[l] = next++;
    }
  }
  return { rank };
}

/** 1-based sequence of each item among the items with the same parent, in index (code) order. */
function seqWithinParent(parentOf: Int32Array): Int32Array {
  const seq = new Int32Array(parentOf.length);
  const seen = new Map<number, number>();
  for (let k = 0; k < parentOf.length; k++) {
    const s = (seen.get(parentOf[k]) ?? 0) + 1;
    seen.set(parentOf[k], s);
    seq[k] = s;
  }
  return seq;
}

/**
 * The outer ring of each label's cell set: directed boundary edges with the region on their left, chained.
 * In lattice coordinates (i east, j north) that is counter-clockwise, as RFC 7946 §3.1.6 asks of exterior
 * rings. Throws if a region has a hole (more than one ring) — the partition is built to have none.
 */
function ringsOfLabels(label: Int32Array, count: number, lattice: Lattice): number[][][] {
  const { W, H } = lattice;
  const cellsOf: number[][] = Array.from({ length: count }, () => []);
  for (let c = 0; c < label.length; c++) if (label[c] >= 0) cellsOf[label[c]].push(c);
  const V = W + 1;
  return cellsOf.map((cells, l) => {
    const next = new Map<number, number>();
    const starts: number[] = [];
    const add = (u: number, v: number) => {
      if (next.has(u)) throw new Error(`region ${l}: vertex ${u} has two outgoing boundary edges (pinch)`);
      next.set(u, v);
      starts.push(u);
    };
    for (const c of cells) {
      const i = c % W;
      const j = (c - i) / W;
      const v00 = j * V + i;
      const v10 = v00 + 1;
      const v01 = v00 + V;
      const v11 = v01 + 1;
      if (j === 0 || label[c - W] !== l) add(v00, v10); // south side, eastward
      if (i === W - 1 || label[c + 1] !== l) add(v10, v11); // east side, northward
      if (j === H - 1 || label[c + W] !== l) add(v11, v01); // north side, westward
      if (i === 0 || label[c - 1] !== l) add(v01, v00); // west side, southward
    }
    const start = starts[0];
    const ring: number[][] = [];
    let u = start;
    let steps = 0;
    do {
      const v = next.get(u)!;
      ring.push([lattice.lng[u], lattice.lat[u]]);
      for (const p of edgePoints(lattice, u, v)) ring.push(p);
      u = v;
      steps++;
    } while (u !== start);
    if (steps !== next.size)
      throw new Error(`region ${l}: ${next.size - steps} boundary edges off the outer ring (a hole)`);
    ring.push(ring[0]);
    return ring;
  });
}

/** The wiggled interior points of lattice edge u→v, in the direction of travel. */
function edgePoints(lattice: Lattice, u: number, v: number): number[][] {
  const { W, hMid, vMid } = lattice;
  const V = W + 1;
  const k = SUBDIV - 1;
  let arr: Float64Array;
  let id: number;
  let forward: boolean;
  if (v === u + 1 || v === u - 1) {
    const lo = Math.min(u, v);
    const j = Math.floor(lo / V);
    id = j * W + (lo - j * V);
    arr = hMid;
    forward = v > u;
  } else {
    id = Math.min(u, v);
    arr = vMid;
    forward = v > u;
  }
  const pts: number[][] = [];
  for (let t = 0; t < k; t++) pts.push([arr[(id * k + t) * 2], arr[(id * k + t) * 2 + 1]]);
  if (!forward) pts.reverse();
  return pts;
}
