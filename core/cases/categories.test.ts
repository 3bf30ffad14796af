import { describe, expect, it } from 'vitest';
import { CATEGORIES, categoryById, classOf, DEPARTMENTS, defaultPriorityOf, routeCase } from './categories.ts';

describe('categories', () => {
  it('has the five national event classes and the three device classes, with unique ids', () => {
    const classes = CATEGORIES.filter((c) => c.parent === null).map((c) => c.zh);
    expect(classes).toEqual([
      '市容环境',
      '宣传广告',
      '施工管理',
      '街面秩序',
      '突发事件',
      '火灾/火警',
      '设施故障',
      '环境监测',
    ]);
    expect(new Set(CATEGORIES.map((c) => c.id)).size).toBe(CATEGORIES.length);
    for (const c of CATEGORIES) {
      expect(c.id).toMatch(/^[a-z_]+(\.[a-z_]+)?$/);
      expect(DEPARTMENTS[c.department]).toBeDefined();
      if (c.parent) expect(categoryById(c.parent)).toBeDefined();
    }
  });
  it('every class has subcategories', () => {
    for (const cls of CATEGORIES.filter((c) => c.parent === null)) {
      expect(CATEGORIES.filter((c) => c.parent === cls.id).length).toBeGreaterThan(2);
    }
  });
  it('default priorities: sub, class, then 3', () => {
    expect(defaultPriorityOf('fire.fire_alarm')).toBe(1);
    expect(defaultPriorityOf('fire.suspected_fire')).toBe(2);
    expect(defaultPriorityOf('fire.unknown')).toBe(1);
    expect(defaultPriorityOf('nothing')).toBe(3);
    expect(classOf('street_order.street_vending')).toBe('street_order');
  });
});

describe('routeCase', () => {
  it('uses the category default department without a routing table', () => {
    expect(routeCase('fire.fire_alarm', '120106001002003')).toBe('fire');
    expect(routeCase('street_order.illegal_parking', null)).toBe('police');
    expect(routeCase('street_order.street_vending', null)).toBe('urban_management');
    expect(routeCase('emergency.water_main_burst', null)).toBe('water');
    expect(routeCase('construction', null)).toBe('housing');
    expect(routeCase('unknown.thing', null)).toBe('urban_management');
  });
  it('the most specific routing rule wins: grid prefix first, then category', () => {
    const table = [
      { category: 'street_order', department: 'street_team' },
      { category: 'street_order', gridPrefix: '120106001', department: 'street1_team' },
      { category: 'street_order.street_vending', gridPrefix: '120106001', department: 'street1_vending' },
      { category: 'street_order', gridPrefix: '120106001002', department: 'community_team' },
    ];
    expect(routeCase('street_order.crowding', '120106002001001', table)).toBe('street_team');
    expect(routeCase('street_order.crowding', '120106001001001', table)).toBe('street1_team');
    expect(routeCase('street_order.street_vending', '120106001001001', table)).toBe('street1_vending');
    expect(routeCase('street_order.street_vending', '120106001002009', table)).toBe('community_team');
    expect(routeCase('street_order.crowding', null, table)).toBe('street_team');
    expect(routeCase('fire.fire_alarm', '120106001002009', table)).toBe('fire');
    // a class rule does not match a different class with the same prefix
    expect(routeCase('street_order_x', null, table)).toBe('urban_management');
  });
});
