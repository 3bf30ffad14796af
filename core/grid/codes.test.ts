import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import {
  GB14,
  GB15,
  STAT20,
  ancestorAt,
  ancestorsOf,
  assertCode,
  codeProfile,
  formatCode,
  isValidCode,
  isWithin,
  levelOf,
  numberBaseGrids,
  parentOf,
  parseCode,
} from './codes.ts';

const sq = (x: number, y: number, s = 1) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [x, y],
      [x + s, y],
      [x + s, y + s],
      [x, y + s],
      [x, y],
    ],
  ],
});

describe('code profiles', () => {
  it('gb15 is 6+3+3+3 and is the default', () => {
    expect(GB15.lengths).toEqual([6, 9, 12, 15]);
    expect(codeProfile()).toBe(GB15);
    expect(GB14.lengths).toEqual([6, 9, 12, 14]);
    expect(STAT20.lengths).toEqual([6, 9, 12, 20]);
    expect(codeProfile([6, 3, 3, 4]).lengths).toEqual([6, 9, 12, 16]);
    expect(() => codeProfile('nope')).toThrow(DomainError);
  });

  it('tells the level from the length', () => {
    expect(levelOf('120106')).toBe(1);
    expect(levelOf('120106001')).toBe(2);
    expect(levelOf('120106001002')).toBe(3);
    expect(levelOf('120106001002003')).toBe(4);
    expect(levelOf('12010600100203', GB14)).toBe(4);
    expect(levelOf('12010600100200000001', STAT20)).toBe(4);
    expect(levelOf('1201060010020030')).toBe(0);
    expect(levelOf('12010600100200a')).toBe(0);
    expect(levelOf('120106000002003')).toBe(0); // street 000
    expect(levelOf('120106001002000')).toBe(0); // sequence 000
    expect(levelOf('000000')).toBe(0);
  });

  it('parses, with the path of ancestor codes', () => {
    const p = parseCode('120106001002003');
    expect(p.level).toBe(4);
    expect(p.kind).toBe('grid');
    expect(p.path).toEqual(['120106', '120106001', '120106001002', '120106001002003']);
    expect(p.segments).toEqual(['120106', '001', '002', '003']);
  });

  it('rejects bad codes with invalid_code', () => {
    for (const bad of ['', '12345', '1201060010020031', 'abcdefabcdefabc', '120106001000003']) {
      try {
        parseCode(bad);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(DomainError);
        expect((e as DomainError).code).toBe('invalid_code');
      }
    }
    expect(() => assertCode('120106001', GB15, 4)).toThrow(/street code/);
    expect(isValidCode('120106001002003', GB15, 4)).toBe(true);
    expect(isValidCode('120106001002003', GB15, 3)).toBe(false);
  });

  it('formats from segments, padding numbers', () => {
    expect(formatCode(['120106', 1, 2, 7])).toBe('120106001002007');
    expect(formatCode(['120106', 1, 2, 7], GB14)).toBe('12010600100207');
    expect(formatCode(['120106', '001'])).toBe('120106001');
    expect(() => formatCode(['120106', 1000])).toThrow(DomainError);
    expect(() => formatCode(['120106', 0])).toThrow(DomainError);
  });

  it('walks the hierarchy through prefixes', () => {
    expect(parentOf('120106001002003')).toBe('120106001002');
    expect(parentOf('120106001')).toBe('120106');
    expect(parentOf('120106')).toBeNull();
    expect(ancestorsOf('120106001002003')).toEqual(['120106', '120106001', '120106001002']);
    expect(ancestorAt('120106001002003', 2)).toBe('120106001');
    expect(ancestorAt('120106001', 3)).toBeNull();
    expect(isWithin('120106001002003', '120106001')).toBe(true);
    expect(isWithin('120106001002003', '120106001002003')).toBe(true);
    expect(isWithin('120106002002003', '120106001')).toBe(false);
    expect(isWithin('120106001002003', '1201060')).toBe(false); // not a code
  });
});

describe('numberBaseGrids', () => {
  it('numbers west→east, north→south', () => {
    // A 3×2 block given in scrambled order.
    const cells = [sq(1, 0), sq(0, 1), sq(2, 1), sq(0, 0), sq(1, 1), sq(2, 0)];
    const codes = numberBaseGrids('120106001002', cells);
    // North row (y=1): x=0,1,2 → 001,002,003; south row: 004,005,006.
    expect(codes).toEqual([
      '120106001002005',
      '120106001002001',
      '120106001002003',
      '120106001002004',
      '120106001002002',
      '120106001002006',
    ]);
  });

  it('keeps a slightly staggered row together and accepts features', () => {
    const cells = [sq(0, 0.1), sq(1, 0), sq(2, 0.2), sq(0, -1), sq(1, -1.1)];
    const codes = numberBaseGrids(
      '120106001002',
      cells.map((geometry) => ({ geometry })),
      GB15,
      10,
    );
    expect(codes.map((c) => c.slice(-3))).toEqual(['010', '011', '012', '013', '014']);
  });

  it('refuses more grids than the sequence holds', () => {
    const many = Array.from({ length: 100 }, (_, i) => sq(i, 0));
    expect(() => numberBaseGrids('120106001002', many, GB14)).toThrow(DomainError);
    expect(() => numberBaseGrids('120106001', many)).toThrow(DomainError);
  });
});
