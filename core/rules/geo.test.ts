import { describe, expect, it } from 'vitest';
import { haversineM, withinM } from './geo.ts';

describe('haversineM', () => {
  it('one degree of latitude is about 111.2 km; zero for the same point', () => {
    expect(haversineM([117, 39], [117, 40])).toBeCloseTo(111_195, -1);
    expect(haversineM([117.2, 39.1], [117.2, 39.1])).toBe(0);
  });
  it('a degree of longitude shrinks with cos(lat)', () => {
    expect(haversineM([117, 39], [118, 39])).toBeCloseTo(111_195 * Math.cos((39 * Math.PI) / 180), -2);
  });
  it('Tianjin to Beijing, about 113 km', () => {
    expect(haversineM([117.2, 39.13], [116.4, 39.9]) / 1000).toBeGreaterThan(105);
    expect(haversineM([117.2, 39.13], [116.4, 39.9]) / 1000).toBeLessThan(115);
  });
  it('withinM', () => {
    expect(withinM([117.2, 39.13], [117.2, 39.13 + 150 / 111_195], 200)).toBe(true);
    expect(withinM([117.2, 39.13], [117.2, 39.13 + 250 / 111_195], 200)).toBe(false);
  });
});
