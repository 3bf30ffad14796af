/**
 * One fixture per kind of defect (test/fixtures/topology/<kind>.geojson, written by make.ts beside
 * them); each file carries the problems it must raise as its foreign member `expected`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateTopology, type TopologyFeature } from '../../core/grid/topology.ts';
import { loadSampleGrids } from '../../geo-data/index.ts';

const dir = join(import.meta.dirname, '../fixtures/topology');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.geojson'))
  .sort();

describe('topology fixtures', () => {
  it('has one fixture per kind', () => {
    expect(files.map((f) => f.replace('.geojson', ''))).toEqual([
      'bad_code',
      'bad_geometry',
      'duplicate_code',
      'gap',
      'hole_outside',
      'missing_parent',
      'outside_parent',
      'overlap',
      'parent_mismatch',
      'ring_not_closed',
      'self_intersection',
      'valid',
    ]);
  });

  for (const file of files) {
    it(file, () => {
      const fc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        features: TopologyFeature[];
        expected: { kind: string; codes: string[] }[];
      };
      const report = validateTopology(fc.features);
      expect(report.ok).toBe(fc.expected.length === 0);
      for (const exp of fc.expected) {
        const hits = report.problems.filter(
          (p) => p.kind === exp.kind && JSON.stringify(p.codes) === JSON.stringify(exp.codes),
        );
        expect(
          hits.length,
          `${exp.kind} ${exp.codes.join(',')} in ${JSON.stringify(report.problems)}`,
        ).toBeGreaterThanOrEqual(1);
        for (const h of hits) {
          // The location is on the map near the fixture (117.20…, 39.10…), and the message names the code.
          expect(h.location[0]).toBeGreaterThan(117.19);
          expect(h.location[0]).toBeLessThan(117.22);
          expect(h.location[1]).toBeGreaterThan(39.09);
          expect(h.location[1]).toBeLessThan(39.11);
          expect(h.message).toContain(exp.codes[0]);
        }
      }
      // No problem of an expected kind beyond those expected.
      const kinds = new Set(fc.expected.map((e) => e.kind));
      const extra = report.problems.filter(
        (p) =>
          kinds.has(p.kind) &&
          !fc.expected.some((e) => e.kind === p.kind && JSON.stringify(e.codes) === JSON.stringify(p.codes)),
      );
      expect(extra).toEqual([]);
    });
  }

  it('locates the gap where it is', () => {
    const fc = JSON.parse(readFileSync(join(dir, 'gap.geojson'), 'utf8'));
    const gap = validateTopology(fc.features).problems.find((p) => p.kind === 'gap')!;
    // Grid 002-003 lost its southern 0.0004° strip: x 117.202–117.203, y 39.100–39.1004.
    expect(gap.location[0]).toBeGreaterThan(117.202);
    expect(gap.location[0]).toBeLessThan(117.203);
    expect(gap.location[1]).toBeGreaterThan(39.1);
    expect(gap.location[1]).toBeLessThan(39.1004);
    expect(gap.areaM2).toBeGreaterThan(3000);
    expect(gap.areaM2).toBeLessThan(4500);
  });

  it('tolerates defects below the tolerance', () => {
    const fc = JSON.parse(readFileSync(join(dir, 'overlap.geojson'), 'utf8'));
    expect(validateTopology(fc.features, { tolerance: 5000 }).problems.filter((p) => p.kind === 'overlap')).toEqual([]);
    expect(
      validateTopology(fc.features, { tolerance: 1000 }).problems.filter((p) => p.kind === 'overlap'),
    ).toHaveLength(1);
  });
});

describe('the sample district', () => {
  it('is valid, and checked in well under a few seconds', () => {
    const fc = loadSampleGrids();
    const t0 = performance.now();
    const report = validateTopology(fc.features as unknown as TopologyFeature[]);
    const ms = performance.now() - t0;
    expect(report.problems).toEqual([]);
    expect(report.counts).toEqual({ 1: 1, 2: 10, 3: 123, 4: 992 });
    expect(ms).toBeLessThan(8000); // ~1 s on a quiet 2-core machine; generous for a loaded CI box
  });
});
