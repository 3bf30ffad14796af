import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../core/cases/categories.ts';
import { pickLang } from './lang.ts';
import {
  AttributeError,
  attributesOf,
  checkAttributes,
  parseW3cDatetime,
  serviceDefinition,
  serviceList,
  w3,
} from './services.ts';

describe('service list', () => {
  it('has one realtime service per category, service_code = category id', () => {
    const list = serviceList('zh');
    expect(list.map((s) => s.service_code)).toEqual(CATEGORIES.map((c) => c.id));
    for (const s of list) {
      expect(s.type).toBe('realtime');
      expect(typeof s.metadata).toBe('boolean');
      expect(s.service_name).toBeTruthy();
      expect(s.description).toBeTruthy();
      expect(s.group).toBeTruthy();
    }
  });

  it('names services in Chinese by default and in English on request', () => {
    const zh = serviceList('zh').find((s) => s.service_code === 'city_appearance.exposed_garbage')!;
    const en = serviceList('en').find((s) => s.service_code === 'city_appearance.exposed_garbage')!;
    expect(zh).toMatchObject({ service_name: '暴露垃圾', group: '市容环境' });
    expect(en).toMatchObject({ service_name: 'Exposed garbage', group: 'City appearance' });
    expect(zh.keywords).toContain('Exposed garbage');
  });

  it('sets metadata exactly for the services that define attributes', () => {
    for (const s of serviceList('en')) expect(s.metadata).toBe(attributesOf(s.service_code).length > 0);
    expect(serviceList('en').filter((s) => s.metadata).length).toBeGreaterThan(3);
  });
});

describe('service definitions', () => {
  it('is empty for most services and null for an unknown code', () => {
    expect(serviceDefinition('city_appearance.exposed_garbage', 'en')).toEqual({
      service_code: 'city_appearance.exposed_garbage',
      attributes: [],
    });
    expect(serviceDefinition('nope', 'en')).toBeNull();
  });

  it('gives attributes with order from 1 and values for lists; a class attribute applies to its subcategories', () => {
    const d = serviceDefinition('emergency.road_collapse', 'en')!;
    expect(d.attributes).toHaveLength(1);
    expect(d.attributes[0]).toMatchObject({ code: 'severity', datatype: 'singlevaluelist', order: 1, variable: true });
    expect(d.attributes[0].values!.map((v) => v.key)).toEqual(['minor', 'moderate', 'severe']);
    const f = serviceDefinition('fire.suspected_fire', 'zh')!;
    expect(f.attributes.map((a) => [a.code, a.variable, a.order])).toEqual([
      ['call_119', false, 1],
      ['severity', true, 2],
    ]);
  });

  it('uses every datatype somewhere', () => {
    const types = new Set(CATEGORIES.flatMap((c) => attributesOf(c.id).map((a) => a.datatype)));
    expect([...types].sort()).toEqual(['datetime', 'multivaluelist', 'number', 'singlevaluelist', 'string', 'text']);
  });
});

describe('checkAttributes', () => {
  it('normalises values by datatype', () => {
    expect(checkAttributes('street_order.illegal_parking', { plate: ' 津A12345 ', vehicle_count: '3' }, 'en')).toEqual({
      plate: '津A12345',
      vehicle_count: 3,
    });
    expect(
      checkAttributes('facility_fault.streetlight_fault', { fault_kind: ['off', 'flickering', 'off'] }, 'en'),
    ).toEqual({ fault_kind: ['off', 'flickering'] });
    expect(checkAttributes('facility_fault.streetlight_fault', { fault_kind: 'off' }, 'en')).toEqual({
      fault_kind: ['off'],
    });
    expect(
      checkAttributes('construction.construction_dust', { observed_at: '2026-11-24T08:30:00+08:00' }, 'en'),
    ).toEqual({ observed_at: '2026-11-24T00:30:00Z' });
  });

  it('ignores unknown codes and informational attributes', () => {
    expect(checkAttributes('fire.fire_alarm', { call_119: 'x', other: 'y', severity: 'severe' }, 'en')).toEqual({
      severity: 'severe',
    });
  });

  it('refuses missing required values, values outside the list, bad numbers and datetimes', () => {
    const bad: [string, Record<string, string | string[]>, RegExp][] = [
      ['city_appearance.graffiti', {}, /attribute\[surface\] is required/],
      ['city_appearance.graffiti', { surface: '' }, /required/],
      ['city_appearance.graffiti', { surface: 'roof' }, /roof is not one of wall, pavement, pole, other/],
      ['city_appearance.graffiti', { surface: ['wall', 'pole'] }, /takes one value/],
      ['facility_fault.streetlight_fault', { fault_kind: ['off', 'exploded'] }, /exploded/],
      ['street_order.illegal_parking', { vehicle_count: 'three' }, /must be a number/],
      ['street_order.illegal_parking', { plate: 'a\nb' }, /single line/],
      ['construction.construction_dust', { observed_at: 'yesterday' }, /ISO 8601/],
    ];
    for (const [code, posted, msg] of bad) {
      expect(() => checkAttributes(code, posted, 'en'), `${code} ${JSON.stringify(posted)}`).toThrow(AttributeError);
      expect(() => checkAttributes(code, posted, 'en')).toThrow(msg);
    }
    expect(() => checkAttributes('city_appearance.graffiti', {}, 'zh')).toThrow(/缺少必填项/);
  });
});

describe('w3 datetimes', () => {
  it('parses the W3C-DTF profiles with time zones', () => {
    expect(parseW3cDatetime('2010-01-01T00:00:00Z')).toBe(Date.UTC(2010, 0, 1));
    expect(parseW3cDatetime('1994-11-05T08:15:30-05:00')).toBe(Date.UTC(1994, 10, 5, 13, 15, 30));
    expect(parseW3cDatetime('1994-11-05T13:15:30.5Z')).toBe(Date.UTC(1994, 10, 5, 13, 15, 30, 500));
    expect(parseW3cDatetime('1994-11-05T13:15Z')).toBe(Date.UTC(1994, 10, 5, 13, 15));
    expect(parseW3cDatetime('1994-11-05')).toBe(Date.UTC(1994, 10, 5));
    expect(parseW3cDatetime('1994-11')).toBe(Date.UTC(1994, 10, 1));
    expect(parseW3cDatetime('1994')).toBe(Date.UTC(1994, 0, 1));
  });

  it('refuses malformed values and times without a zone', () => {
    for (const s of [
      '',
      'now',
      '2010-13-01',
      '2026-02-30',
      '2010-01-01T00:00:00',
      '2010-01-01 00:00:00Z',
      '2010-01-01T25:00Z',
      '1700000000000',
    ])
      expect(parseW3cDatetime(s), s).toBeNull();
  });

  it('writes UTC with whole seconds', () => {
    expect(w3(Date.UTC(2010, 0, 1, 0, 0, 0, 789))).toBe('2010-01-01T00:00:00Z');
  });
});

describe('pickLang', () => {
  it('prefers the first of zh/en by q-value, zh by default', () => {
    expect(pickLang(null)).toBe('zh');
    expect(pickLang('en-US,en;q=0.9')).toBe('en');
    expect(pickLang('fr, en;q=0.5, zh;q=0.8')).toBe('zh');
    expect(pickLang('de')).toBe('zh');
    expect(pickLang('zh-CN;q=0.1, en')).toBe('en');
  });
});
