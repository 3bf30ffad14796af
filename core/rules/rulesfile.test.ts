import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { DEFAULT_RULES, DEFAULT_RULES_TEXT, parseJsonc, parseRules } from './rulesfile.ts';

function failure(text: string): { line: number; message: string } {
  try {
    parseRules(text);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('validation_failed');
    return { line: ((e as DomainError).details as { line: number }).line, message: (e as Error).message };
  }
  throw new Error('expected the rules file to be refused');
}

/** The default file with one line replaced (1-based), to aim errors at a known line. */
function withLine(find: string, replace: string): { text: string; line: number } {
  const lines = DEFAULT_RULES_TEXT.split('\n');
  const i = lines.findIndex((l) => l.includes(find));
  expect(i).toBeGreaterThanOrEqual(0);
  lines[i] = lines[i].replace(find, replace);
  return { text: lines.join('\n'), line: i + 1 };
}

describe('rules file', () => {
  it('the default file parses into the contract rules', () => {
    expect(DEFAULT_RULES.events.find((r) => r.type === 'fire_alarm')).toMatchObject({
      priority: 1,
      autoDispatch: 'fire',
      linkCamerasRadiusM: 300,
      autoRegister: true,
    });
    expect(DEFAULT_RULES.fusion.fire).toEqual({ radiusM: 200, windowS: 300, raiseTo: 1 });
    expect(DEFAULT_RULES.thresholds[0]).toMatchObject({ metric: 'temp_c', op: '>', value: 70, forS: 30, clear: 65 });
    expect(DEFAULT_RULES.heartbeat.multiplier).toBe(3);
  });
  it('comments, trailing commas and a BOM are accepted', () => {
    const r = parseRules('\uFEFF/* head */ { "version": 1, // c\n "events": [ ], /* x */ }');
    expect(r.events).toEqual([]);
    expect(parseJsonc('{"a": [1, 2, ], }').value).toEqual({ a: [1, 2] });
  });
  it('a syntax error names its line', () => {
    const bad = '{\n  "version": 1,\n  "events": [\n    { "name": "a" "type": "x" }\n  ]\n}';
    expect(failure(bad)).toMatchObject({ line: 4 });
    expect(failure(bad).message).toMatch(/^rules file line 4: /);
    expect(failure('{\n "version": 1,\n "events": [\n\n  tru\n ]\n}').line).toBe(5);
    expect(failure('{\n "version": 1,\n "storm": { "windowS": 6\n').line).toBe(3);
    expect(failure('{\n "version": 1,\n /* never closed\n').line).toBe(3);
    expect(failure('{\n "title": "line one\nline two"\n}').line).toBe(2);
    expect(failure('').message).toMatch(/line 1/);
  });
  it('a semantic error names the line of the offending key', () => {
    const a = withLine(
      '{ "name": "fire-alarm", "type": "fire_alarm", "category": "fire.fire_alarm", "priority": 1,',
      '{ "name": "fire-alarm", "type": "fire_alarm", "category": "fire.fire_alarm", "priority": 7,',
    );
    expect(failure(a.text)).toMatchObject({ line: a.line });
    expect(failure(a.text).message).toContain('events[0].priority must be 1, 2, 3 or 4');
    const b = withLine('"fire": { "radiusM": 200,', '"fire": { "radiusM": "far",');
    expect(failure(b.text)).toMatchObject({ line: b.line });
    const c = withLine('"op": ">", "value": 70', '"op": ">=", "value": 70');
    expect(failure(c.text)).toMatchObject({ line: c.line });
    const d = withLine('"heartbeat": { "multiplier": 3', '"heartbeat": { "multiplier": 0');
    expect(failure(d.text)).toMatchObject({ line: d.line });
    const e = withLine('"fuse": "fire", "fuseJoin": false', '"fuse": "flood", "fuseJoin": false');
    expect(failure(e.text)).toMatchObject({ line: e.line });
    expect(failure(e.text).message).toContain('names no group');
    const f = withLine('"clear": 65', '"clear": 75');
    expect(failure(f.text)).toMatchObject({ line: f.line });
    const g = withLine('"storm": { "windowS": 600', '"storm": { "windowz": 600');
    expect(failure(g.text)).toMatchObject({ line: g.line });
    expect(failure(g.text).message).toContain('storm.windowz is not a known field');
  });
  it('a missing field names the line where its rule starts; duplicates are refused', () => {
    const text =
      '{\n "version": 1,\n "events": [\n  { "name": "a", "type": "t1", "category": "c", "priority": 1 },\n  {\n   "name": "b",\n   "type": "t2",\n   "priority": 1\n  }\n ]\n}';
    expect(failure(text)).toMatchObject({ line: 5 });
    expect(failure(text).message).toContain('events[1].category');
    const dup =
      '{\n "version": 1,\n "events": [\n  { "name": "a", "type": "t", "category": "c", "priority": 1 },\n  { "name": "b", "type": "t", "category": "c", "priority": 1 }\n ]\n}';
    expect(failure(dup)).toMatchObject({ line: 5 });
    expect(failure('{\n "version": 1,\n "version": 1\n}').line).toBe(3);
    expect(failure('{\n "version": 2\n}').line).toBe(2);
    const inherited =
      '{\n "version": 1,\n "events": [\n  { "name": "a", "type": "t", "category": "c", "priority": 1, "fuse": "toString" }\n ]\n}';
    expect(failure(inherited)).toMatchObject({ line: 4 });
  });
});

describe('parser properties', () => {
  it('reads any JSON document as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(parseJsonc(text).value).toEqual(JSON.parse(text));
      }),
    );
  });
  it('any text is either a RuleSet or a validation_failed naming a line inside the file', () => {
    const mutated = fc
      .tuple(fc.nat(DEFAULT_RULES_TEXT.length), fc.nat(20), fc.string({ maxLength: 3 }))
      .map(([at, del, ins]) => DEFAULT_RULES_TEXT.slice(0, at) + ins + DEFAULT_RULES_TEXT.slice(at + del));
    fc.assert(
      fc.property(fc.oneof(fc.string(), mutated), (text) => {
        try {
          parseRules(text);
        } catch (e) {
          expect(e).toBeInstanceOf(DomainError);
          const line = ((e as DomainError).details as { line: number }).line;
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(text.split('\n').length);
          expect((e as Error).message).toMatch(new RegExp(`^rules file line ${line}: `));
        }
      }),
      { numRuns: 300 },
    );
  });
});
