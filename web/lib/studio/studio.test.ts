/**
 * The studio page's adapter over core/grid/studio.ts (GeoJSON features in, change sets out, errors as
 * messages, accepted change sets applied in memory) and the state's next free code, on the sample district.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StudioGrid } from './api.ts';
import { applyLocal, edits } from './edits.ts';
import { StudioState } from './state.svelte.ts';

const SAMPLE = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../../geo-data/sample/grids.geojson'), 'utf8'),
) as { features: StudioGrid[] };
const grids: StudioGrid[] = SAMPLE.features.map((f) => ({
  type: 'Feature',
  geometry: f.geometry,
  properties: {
    code: f.properties.code,
    level: f.properties.level,
    name: f.properties.name,
    parent: f.properties.parent,
    kind: f.properties.kind,
    households: f.properties.households,
  },
}));
const key = (q: number[]) => `${q[0]},${q[1]}`;
const ring = (g: StudioGrid) => (g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : []);

describe('studio edits adapter', () => {
  it('a shared vertex moved in every grid that has it, applied in memory as the server stores it', () => {
    const a = grids.find((g) => g.properties.code === '120106001001001')!;
    const b = grids.find((g) => g.properties.code === '120106001001002')!;
    const inB = new Set(ring(b).map(key));
    const v = ring(a).find((q, i) => i > 0 && inB.has(key(q)))!;
    const to = [v[0] + 0.00003, v[1] + 0.00002];
    const built = edits.moveVertex(grids, v, to, 1e-7);
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    const codes = built.edits.map((e) => e.code);
    expect(codes).toContain(a.properties.code);
    expect(codes).toContain(b.properties.code);
    const next = applyLocal(grids, built.edits);
    expect(next.length).toBe(grids.length);
    for (const code of [a.properties.code, b.properties.code]) {
      const g = next.find((x) => x.properties.code === code)!;
      expect(ring(g).map(key)).toContain(key(to));
      expect(ring(g).map(key)).not.toContain(key(v));
      expect(g.properties.name).toBe(grids.find((x) => x.properties.code === code)!.properties.name);
    }
  });

  it('an impossible edit is a message, not a throw', () => {
    const built = edits.split(
      grids,
      '120106001001001',
      [
        [0, 0],
        [0.001, 0.001],
      ],
      '120106001001999',
    );
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.message.length).toBeGreaterThan(0);
  });
});

describe('StudioState.nextCode', () => {
  it('the next free code under a parent, at the children’s length', () => {
    const s = new StudioState();
    s.grids = grids;
    const n = grids.filter((g) => g.properties.parent === '120106001001').length;
    expect(s.nextCode('120106001001', 15)).toBe(`120106001001${String(n + 1).padStart(3, '0')}`);
    expect(s.nextCode('120106001', 12)).toMatch(/^120106001\d{3}$/);
  });
});
