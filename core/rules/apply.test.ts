import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../cases/sla.ts';
import { caseFromDecision } from './apply.ts';
import { RuleEngine } from './engine.ts';
import type { OpenCaseDecision } from './types.ts';

const T0 = Date.UTC(2026, 10, 23, 1, 0, 0);
const G = { district: '120106', street: '120106001', community: '120106001002', grid: '120106001002003' };
const ctx = { deadlines: DEFAULT_DEADLINES };

describe('caseFromDecision', () => {
  it('a fire alarm becomes a dispatched P1 case for the fire department with linked cameras and three trail entries', () => {
    const [d] = new RuleEngine().onEvent(
      { deviceId: 'fa-1', deviceKind: 'smoke', type: 'fire_alarm', ts: T0, loc: [117.2, 39.13], grid: G, attrs: {} },
      T0,
    ) as OpenCaseDecision[];
    const { case: c, trail } = caseFromDecision(d, T0 + 5, { id: 'k1', seq: 12 }, ctx, ['cam-1', 'cam-2']);
    expect(c).toMatchObject({
      state: 'dispatched',
      priority: 1,
      source: 'sensor',
      category: 'fire.fire_alarm',
      assignee: { kind: 'department', id: 'fire' },
      linkedCameras: ['cam-1', 'cam-2'],
      deadline: T0 + 5 + 30 * 60_000,
      code: 'HQ-20261123-0012',
      version: 3,
    });
    expect(trail.map((t) => t.action)).toEqual(['intake', 'register', 'dispatch']);
  });
  it('a rule without autoRegister leaves the case reported for a person to review', () => {
    const [d] = new RuleEngine().onEvent(
      {
        deviceId: 'cam-1',
        deviceKind: 'camera',
        type: 'ai_detection',
        ts: T0,
        loc: [117.2, 39.13],
        grid: G,
        attrs: { label: 'street_vending', score: 0.9 },
      },
      T0,
    ) as OpenCaseDecision[];
    const { case: c, trail } = caseFromDecision(d, T0, { id: 'k2' }, ctx);
    expect(c).toMatchObject({
      state: 'reported',
      source: 'camera',
      category: 'street_order.street_vending',
      priority: 3,
    });
    expect(trail).toHaveLength(1);
  });
});
