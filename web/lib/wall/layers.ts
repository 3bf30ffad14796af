/**
 * The wall's deck.gl layers, built from WallState. Layer instances are cheap and are rebuilt every
 * animation tick (the deck.gl way); their data arrays keep their identity and only the `updateTriggers`
 * (version numbers bumped once per live batch) make deck recompute an attribute — so a device going
 * offline recolours one attribute buffer, it does not re-create a layer or re-upload geometry.
 * Loaded only in the browser (GridMap imports it dynamically).
 */
import { PolygonLayer, ScatterplotLayer, TextLayer, PathLayer } from '@deck.gl/layers';
import { TripsLayer } from '@deck.gl/geo-layers';
import { HeatmapLayer } from '@deck.gl/aggregation-layers';
import type { Layer } from '@deck.gl/core';
import type { Case, Device, GridFC, GridFeature, HeatPoint, PatrolTrip, PatrolTracks } from './types.ts';
import type { WallState } from './state.svelte.ts';

type RGBA = [number, number, number, number];

export const KIND_COLORS: Record<string, RGBA> = {
  camera: [53, 196, 255, 255],
  smoke: [255, 140, 60, 255],
  heat: [255, 95, 95, 255],
  gas: [255, 214, 10, 255],
  water_level: [64, 150, 255, 255],
  manhole: [190, 130, 255, 255],
  sensor: [61, 220, 151, 255],
  gateway: [235, 240, 255, 255],
};
const OFFLINE: RGBA = [96, 104, 120, 200];
const PRIORITY_COLORS: Record<number, RGBA> = {
  1: [255, 77, 79, 255],
  2: [255, 150, 50, 255],
  3: [255, 214, 10, 255],
  4: [140, 200, 255, 255],
};
const ALARM_RING: RGBA = [255, 77, 79, 255];
const MARKER_EDGE: RGBA = [6, 11, 22, 255];
const PATROL: RGBA = [61, 220, 151, 255];
const PATROL_SIMULATED: RGBA = [170, 150, 255, 220];
const PATROL_TEXT: RGBA = [190, 255, 225, 255];
const STREET_TEXT: RGBA = [255, 230, 170, 255];
const COMMUNITY_TEXT: RGBA = [200, 225, 255, 255];
const GRID_TEXT: RGBA = [232, 240, 255, 230];
const TEXT_OUTLINE: RGBA = [6, 11, 22, 255];
const HEAT_RANGE: [number, number, number][] = [
  [25, 60, 140],
  [40, 120, 200],
  [80, 200, 220],
  [255, 214, 10],
  [255, 140, 60],
  [255, 60, 60],
];
const MATERIAL = {
  ambient: 0.55,
  diffuse: 0.6,
  shininess: 24,
  specularColor: [60, 80, 110] as [number, number, number],
};
const ON_TOP = { depthCompare: 'always' } as const;
const FONT_SETTINGS = { sdf: true, fontSize: 64, buffer: 6 };
const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif';

/**
 * One invisible item (radius 0, far outside the district) stands in while a layer has no data, so its
 * shaders are compiled at start-up: compiling on the first alarm stalls the main thread for seconds on a
 * software renderer, exactly when the alarm should show.
 */
const WARMUP = [{ id: '', location: [0, 0], priority: 4 }] as unknown as Case[];

/**
 * Lite rendering draws every outline with maplibre's own line layers instead of deck.gl PathLayers: a
 * PathLayer's vertex shader (joins, widths) runs per vertex of every edge, which costs a software renderer
 * hundreds of milliseconds a frame for the 992 grids and the street and community borders, while maplibre
 * tessellates lines once, in a worker, and draws them with a trivial shader. (With a GPU either is cheap;
 * the full picture keeps deck's boundaries, which stay on top of the extruded grids.)
 *
 * Two sources: the base grids' outlines (below the street and community borders), and the borders of
 * levels 1–3 with a `level` property. Deck's base-grid fill is placed below both (`beforeId`).
 */
export const LITE_LINES = { grids: 'lite-grid-lines', borders: 'lite-borders' } as const;

type FC = { type: 'FeatureCollection'; features: { type: 'Feature'; geometry: unknown; properties: object }[] };

/** The two sources' data from the grid levels (1 district … 4 base grid). */
export function liteLineData(levels: GridFC[]): { grids: FC; borders: FC } {
  // As lines, not polygons: a polygon cut at a tile's edge is closed along that edge, and with tiles cut
  // without a buffer (GridMap) those closing edges would be drawn as lines across the map.
  const strip = (f: GridFeature, level: number) => ({
    type: 'Feature' as const,
    geometry: {
      type: 'MultiLineString',
      coordinates: f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat(),
    },
    properties: { code: f.properties.code, level },
  });
  return {
    grids: { type: 'FeatureCollection', features: (levels[3]?.features ?? []).map((f) => strip(f, 4)) },
    borders: {
      type: 'FeatureCollection',
      features: levels.slice(0, 3).flatMap((fc, i) => fc.features.map((f) => strip(f, i + 1))),
    },
  };
}

/** Paint for the two line layers: grid outlines brighter inside the focus; borders by level, as deck's. */
export function liteLinePaint(
  focus: string,
  scale: number,
): { grids: Record<string, unknown>; borders: Record<string, unknown> } {
  return {
    grids: {
      'line-color': 'rgb(53, 196, 255)',
      'line-width': 1,
      'line-opacity': ['case', ['==', ['slice', ['get', 'code'], 0, focus.length], focus], 0.45, 0.12],
    },
    borders: {
      'line-color': [
        'match',
        ['get', 'level'],
        1,
        'rgb(53, 196, 255)',
        2,
        'rgba(255, 197, 61, 0.92)',
        'rgba(150, 210, 255, 0.67)',
      ],
      'line-width': ['match', ['get', 'level'], 1, 4 * scale, 2, 2.6 * scale, 1.2 * scale],
    },
  };
}

export interface GridCell {
  code: string;
  polygon: number[][];
}
interface Label {
  code: string;
  text: string;
  position: [number, number];
}

export function outerRing(f: GridFeature): number[][] {
  const g = f.geometry;
  return g.type === 'Polygon' ? g.coordinates[0] : (g.coordinates[0]?.[0] ?? []);
}

/** Area-weighted centroid of the outer ring (good enough for labels on convex-ish grids). */
export function centroid(f: GridFeature): [number, number] {
  const ring = outerRing(f);
  let a = 0;
  let x = 0;
  let y = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const c = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    a += c;
    x += (ring[j][0] + ring[i][0]) * c;
    y += (ring[j][1] + ring[i][1]) * c;
  }
  if (Math.abs(a) < 1e-15) return ring.length ? [ring[0][0], ring[0][1]] : [0, 0];
  return [x / (3 * a), y / (3 * a)];
}

export function bounds(features: GridFeature[]): [number, number, number, number] | null {
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const f of features) {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const poly of polys)
      for (const [x, y] of poly[0]) [w, s, e, n] = [Math.min(w, x), Math.min(s, y), Math.max(e, x), Math.max(n, y)];
  }
  return w < e ? [w, s, e, n] : null;
}

export interface LayerToggles {
  heat: boolean;
  devices: boolean;
  cases: boolean;
  patrols: boolean;
}

export interface BuildContext {
  focus: string;
  zoom: number;
  /** ms since page load, for pulses. */
  time: number;
  /** Epoch ms, for patrol tracks. */
  now: number;
  /** Pixel scale for a 4K wall (1 at 1920 wide). */
  scale: number;
  toggles: LayerToggles;
  /** A software renderer (SwiftShader, llvmpipe): flat grids without wireframe or lighting. */
  lite: boolean;
  /** The label on simulated patrol walkers, in the wall's language (default 'SIMULATED'). */
  simulatedLabel?: string;
}

/** One label of the patrol layer: a real worker's newest trip, or one simulated walker. */
export interface PatrolLabel {
  trip: PatrolTrip;
}

/** Where a trip is at `t` seconds (its last vertex at or before t; its first before it starts). */
export function headAt(trip: PatrolTrip, t: number): [number, number] {
  const ts = trip.timestamps;
  let lo = 0;
  let hi = ts.length - 1;
  if (t <= ts[0]) return trip.path[0];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ts[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return trip.path[lo];
}

/** Seconds of a SIMULATED walker's fading trail on the wall. */
export const TRAIL_S = 300;
/** The trimmed trails are cut again once per this many seconds (their identity is kept in between). */
const TRAIL_BUCKET_S = 30;

/**
 * The part of `trip` a trail drawn at any time in [fromS, toS] can show (timestamps in the trip's own
 * seconds): the fixes inside, plus one on each side, so TripsLayer still interpolates the ends. The server
 * sends each walker ~40 minutes (GET /api/patrols); drawing only the visible ~5 cuts the trail layer's
 * vertices twentyfold, which a software renderer pays for on every frame.
 */
export function trailWindow(trip: PatrolTrip, fromS: number, toS: number): PatrolTrip {
  const ts = trip.timestamps;
  let i0 = 0;
  while (i0 + 1 < ts.length && ts[i0 + 1] <= fromS) i0++;
  let i1 = ts.length - 1;
  while (i1 - 1 > i0 && ts[i1 - 1] >= toS) i1--;
  if (i0 === 0 && i1 === ts.length - 1) return trip;
  return { ...trip, path: trip.path.slice(i0, i1 + 1), timestamps: ts.slice(i0, i1 + 1) };
}

export class WallLayers {
  private cells: GridCell[] = [];
  /** The SIMULATED trails cut to the time around now (trailWindow), per answer of /api/patrols and bucket. */
  private trailMemo: { of: PatrolTrip[]; bucket: number; trips: PatrolTrip[] } | null = null;
  private trails(simulated: PatrolTrip[], nowS: number): PatrolTrip[] {
    const bucket = Math.floor(nowS / TRAIL_BUCKET_S) * TRAIL_BUCKET_S;
    if (this.trailMemo?.of !== simulated || this.trailMemo.bucket !== bucket) {
      const from = bucket - TRAIL_S - TRAIL_BUCKET_S;
      const to = bucket + 2 * TRAIL_BUCKET_S;
      this.trailMemo = { of: simulated, bucket, trips: simulated.map((t) => trailWindow(t, from, to)) };
    }
    return this.trailMemo.trips;
  }
  /** Patrol data split once per answer of /api/patrols (identity kept between ticks). */
  private patrolMemo: {
    of: PatrolTracks;
    real: PatrolTrip[];
    simulated: PatrolTrip[];
    labels: PatrolLabel[];
    realLabels: PatrolLabel[];
  } | null = null;
  private patrolParts(p: PatrolTracks) {
    if (this.patrolMemo?.of !== p) {
      const real = p.trips.filter((t) => !t.simulated);
      const simulated = p.trips.filter((t) => t.simulated);
      // One label per real worker (its newest stretch between gaps), one per simulated walker.
      const newest = new Map<string, PatrolTrip>();
      for (const t of real) {
        const had = newest.get(t.worker);
        if (!had || t.timestamps[t.timestamps.length - 1] > had.timestamps[had.timestamps.length - 1])
          newest.set(t.worker, t);
      }
      const realLabels = [...newest.values()].map((trip) => ({ trip }));
      const labels = [...realLabels, ...simulated.map((trip) => ({ trip }))];
      this.patrolMemo = { of: p, real, simulated, labels, realLabels };
    }
    return this.patrolMemo;
  }
  private streetLabels: Label[] = [];
  private communityLabels: Label[] = [];
  private gridLabels: Label[] = [];
  private levels: GridFC[] | null = null;
  private lines: { level: number; path: number[][] }[] = [];
  /** Filtered arrays keep their identity between ticks, or deck would re-process them every frame. */
  private memo = new Map<string, Label[]>();
  private filtered(key: string, all: Label[], prefix: string): Label[] {
    const k = `${key}|${prefix}`;
    let v = this.memo.get(k);
    if (!v) {
      if (this.memo.size > 32) this.memo.clear();
      v = all.filter((l) => l.code.startsWith(prefix));
      this.memo.set(k, v);
    }
    return v;
  }

  constructor(private readonly wall: WallState) {}

  /** Derived geometry, recomputed only when the grid collections change. */
  private ensureGeometry(): void {
    const levels = this.wall.levels;
    if (levels === this.levels) return;
    this.levels = levels;
    const [, streets, communities, base] = levels;
    this.cells = (base?.features ?? []).map((f) => ({ code: f.properties.code, polygon: outerRing(f) }));
    const label = (f: GridFeature): Label => ({
      code: f.properties.code,
      text: f.properties.name,
      position: centroid(f),
    });
    this.streetLabels = (streets?.features ?? []).map(label);
    this.communityLabels = (communities?.features ?? []).map(label);
    this.gridLabels = (base?.features ?? []).map(label);
    this.memo.clear();
    this.lines = levels.slice(0, 3).flatMap((fc, i) =>
      fc.features.flatMap((f) =>
        (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).map((p) => ({
          level: i + 1,
          path: p[0],
        })),
      ),
    );
  }

  build(ctx: BuildContext): Layer[] {
    this.ensureGeometry();
    const w = this.wall;
    const focus = ctx.focus;
    const focusLevel = focus.length >= 15 ? 4 : focus.length >= 12 ? 3 : focus.length >= 9 ? 2 : 1;
    const s = ctx.scale;
    const inFocus = (code: string) => code.startsWith(focus);
    const layers: Layer[] = [];

    if (ctx.toggles.heat && w.heat.length && !ctx.lite)
      layers.push(
        new HeatmapLayer<HeatPoint>({
          id: 'heat',
          data: w.heat,
          getPosition: (d) => [d[0], d[1]],
          getWeight: (d) => d[2],
          radiusPixels: 45 * s,
          intensity: 1.2,
          threshold: 0.06,
          opacity: 0.55,
          colorRange: HEAT_RANGE,
        }),
      );

    layers.push(
      new PolygonLayer<GridCell>({
        id: 'base-grids',
        data: this.cells,
        getPolygon: (d) => d.polygon,
        extruded: !ctx.lite,
        wireframe: !ctx.lite,
        // Flat (lite) grids get their outlines from maplibre line layers above them (LITE_LINES).
        stroked: false,
        filled: true,
        ...(ctx.lite ? { beforeId: LITE_LINES.grids } : {}),
        elevationScale: 1,
        getElevation: (d) => {
          if (!inFocus(d.code)) return 0;
          const l = w.gridLoad.get(d.code);
          return l ? Math.min(600, 40 + l.open * 70) : 4;
        },
        getFillColor: (d) => {
          const l = w.gridLoad.get(d.code);
          const a = inFocus(d.code) ? 1 : 0.3;
          if (l?.alarm) return [255, 77, 79, 235 * a];
          if (l?.overdue) return [255, 176, 32, 225 * a];
          if (l && l.open > 0) return [30 + Math.min(5, l.open) * 12, 150 + Math.min(5, l.open) * 14, 255, 210 * a];
          return [22, 64, 120, 150 * a];
        },
        // The wireframe of the extruded (full) picture.
        getLineColor: (d) => (inFocus(d.code) ? [53, 196, 255, 110] : [53, 196, 255, 30]),
        material: MATERIAL,
        pickable: true,
        autoHighlight: true,
        highlightColor: [255, 255, 255, 70],
        updateTriggers: {
          getElevation: [w.caseVersion, focus],
          getFillColor: [w.caseVersion, focus],
          getLineColor: [focus],
        },
      }),
    );

    if (!ctx.lite)
      layers.push(
        new PathLayer<{ level: number; path: number[][] }>({
          id: 'boundaries',
          data: this.lines,
          getPath: (d) => d.path as [number, number][],
          getColor: (d) =>
            d.level === 1 ? [53, 196, 255, 255] : d.level === 2 ? [255, 197, 61, 235] : [150, 210, 255, 170],
          getWidth: (d) => (d.level === 1 ? 4 : d.level === 2 ? 2.6 : 1.2) * s,
          widthUnits: 'pixels',
          parameters: ON_TOP,
        }),
      );

    if (ctx.toggles.patrols && w.patrols?.trips.length) {
      const p = w.patrols;
      const { real, simulated, labels, realLabels } = this.patrolParts(p);
      // A label per simulated walker only where there is room (zoomed in, or a street or below in focus):
      // the whole district holds hundreds. Real workers are always named.
      const roomy = ctx.zoom - Math.log2(s) >= 13.6 || focusLevel >= 2;
      const nowS = (ctx.now - p.t0) / 1000;
      // Real tracks from grid workers' phones: today's whole path, solid, labelled with the worker's name.
      if (real.length)
        layers.push(
          new PathLayer<PatrolTrip>({
            id: 'patrols-real',
            data: real,
            getPath: (d) => d.path,
            getColor: PATROL,
            widthUnits: 'pixels',
            getWidth: 4 * s,
            capRounded: true,
            jointRounded: true,
            pickable: true,
            parameters: ON_TOP,
          }),
        );
      // SIMULATED walkers (demo mode only, the server sends none otherwise): a fading trail, in their own colour.
      if (simulated.length)
        layers.push(
          new TripsLayer<PatrolTrip>({
            id: 'patrols',
            data: this.trails(simulated, nowS),
            getPath: (d) => d.path,
            getTimestamps: (d) => d.timestamps,
            getColor: PATROL_SIMULATED,
            currentTime: nowS,
            trailLength: TRAIL_S,
            fadeTrail: true,
            widthUnits: 'pixels',
            getWidth: 3 * s,
            capRounded: true,
            jointRounded: true,
            parameters: ON_TOP,
          }),
        );
      const second = Math.floor(nowS);
      layers.push(
        new TextLayer<PatrolLabel>({
          id: 'patrol-labels',
          data: roomy ? labels : realLabels,
          getText: (d) => (d.trip.simulated ? (ctx.simulatedLabel ?? 'SIMULATED') : d.trip.name),
          // A real worker's label sits at the newest fix; a simulated one walks with its walker's head.
          getPosition: (d) => (d.trip.simulated ? headAt(d.trip, nowS) : d.trip.path[d.trip.path.length - 1]),
          getSize: (d) => (d.trip.simulated ? 13 : 17) * s,
          getColor: (d) => (d.trip.simulated ? PATROL_SIMULATED : PATROL_TEXT),
          getPixelOffset: [0, -14 * s],
          getTextAnchor: 'middle',
          getAlignmentBaseline: 'bottom',
          characterSet: 'auto',
          fontFamily: FONT,
          fontWeight: 700,
          fontSettings: FONT_SETTINGS,
          outlineWidth: 3,
          outlineColor: TEXT_OUTLINE,
          billboard: true,
          pickable: true,
          parameters: ON_TOP,
          updateTriggers: { getPosition: second, getText: ctx.simulatedLabel },
        }),
      );
    }

    if (ctx.toggles.devices)
      layers.push(
        new ScatterplotLayer<Device>({
          id: 'devices',
          data: w.devices,
          getPosition: (d) => d.location as [number, number],
          getFillColor: (d) => (d.online ? (KIND_COLORS[d.kind] ?? KIND_COLORS.sensor) : OFFLINE),
          radiusUnits: 'pixels',
          getRadius: (d) => (d.kind === 'camera' || d.kind === 'gateway' ? 3.4 : 2.6),
          radiusScale: s * (ctx.zoom > 14 ? 1.6 : 1),
          parameters: ON_TOP,
          updateTriggers: { getFillColor: w.deviceVersion },
        }),
      );

    if (ctx.toggles.cases) {
      const phase = (ctx.time % 1600) / 1600;
      layers.push(
        new ScatterplotLayer<Case>({
          id: 'alarm-pulse',
          data: w.alarms.length ? w.alarms : WARMUP,
          getPosition: (d) => d.location as [number, number],
          radiusUnits: 'pixels',
          getRadius: (d) => (d.id === '' ? 0 : 1),
          radiusScale: (10 + 34 * phase) * s,
          stroked: true,
          filled: false,
          lineWidthUnits: 'pixels',
          getLineWidth: 3 * s,
          getLineColor: ALARM_RING,
          opacity: 1 - phase,
          parameters: ON_TOP,
          updateTriggers: { getPosition: w.caseVersion },
        }),
        new ScatterplotLayer<Case>({
          id: 'cases',
          data: w.openCases.length ? w.openCases : WARMUP,
          getPosition: (d) => d.location as [number, number],
          radiusUnits: 'pixels',
          getRadius: (d) => (d.id === '' ? 0 : d.priority === 1 ? 9 : 7),
          radiusScale: s,
          getFillColor: (d) => PRIORITY_COLORS[d.priority] ?? PRIORITY_COLORS[3],
          stroked: true,
          lineWidthUnits: 'pixels',
          getLineWidth: 1.5 * s,
          getLineColor: MARKER_EDGE,
          pickable: true,
          parameters: ON_TOP,
          updateTriggers: { getFillColor: w.caseVersion, getRadius: w.caseVersion },
        }),
      );
    }

    const text = (id: string, data: Label[], size: number, color: RGBA, weight: number) =>
      new TextLayer<Label>({
        id,
        data,
        getText: (d) => d.text,
        getPosition: (d) => d.position,
        getSize: size * s,
        getColor: color,
        characterSet: 'auto',
        fontFamily: FONT,
        fontWeight: weight,
        fontSettings: FONT_SETTINGS,
        outlineWidth: 3,
        outlineColor: TEXT_OUTLINE,
        billboard: true,
        parameters: ON_TOP,
      });
    layers.push(text('labels-street', this.streetLabels, focusLevel >= 2 ? 18 : 22, STREET_TEXT, 700));
    // Community names only when there is room for them: zoomed in, or focused on a street or below.
    // (On a 4K wall the same framing is one zoom level deeper: compare at 1920-wide terms.)
    if (ctx.zoom - Math.log2(s) >= 13.6 || focusLevel >= 2)
      layers.push(
        text(
          'labels-community',
          focusLevel >= 2 ? this.filtered('c', this.communityLabels, focus.slice(0, 9)) : this.communityLabels,
          15,
          COMMUNITY_TEXT,
          600,
        ),
      );
    if (focusLevel >= 3)
      layers.push(text('labels-grid', this.filtered('g', this.gridLabels, focus.slice(0, 12)), 15, GRID_TEXT, 600));
    return layers;
  }
}
