import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { applyAction } from './machine.ts';
import { applySensorUpdate } from './sensor.ts';
import { ctx, dispatcher, fresh, HOUR, MIN, T0 } from './fixtures.test-util.ts';

describe('sensor updates', () => {
  it('events add to the count without bumping the version, and go on the trail', () => {
    const c = fresh();
    const r = applySensorUpdate(c, { kind: 'events', count: 999, deviceId: 'fa-1', reason: 'repeat' }, T0 + MIN, ctx);
    expect(r.case.eventCount).toBe(1000);
    expect(r.case.version).toBe(c.version);
    expect(r.trail).toMatchObject({
      action: 'events',
      actor: 'system',
      data: { count: 999, eventCount: 1000, deviceId: 'fa-1' },
    });
    expect(() => applySensorUpdate(c, { kind: 'events', count: 0 }, T0, ctx)).toThrow(DomainError);
  });
  it('raise_priority bumps the version and shortens the deadline to the higher priority', () => {
    const reg = applyAction(
      fresh(),
      { action: 'register', category: 'fire.suspected_fire', priority: 2 },
      dispatcher,
      T0,
      ctx,
    ).case;
    expect(reg.deadline).toBe(T0 + HOUR);
    const r = applySensorUpdate(
      reg,
      { kind: 'raise_priority', priority: 1, reason: 'camera saw fire' },
      T0 + 4 * MIN,
      ctx,
    );
    expect(r.case).toMatchObject({ priority: 1, deadline: T0 + 30 * MIN, version: reg.version + 1 });
    expect(r.trail).toMatchObject({
      action: 'raise_priority',
      note: 'camera saw fire',
      data: { from: 2, priority: 1 },
    });
    expect(() => applySensorUpdate(r.case, { kind: 'raise_priority', priority: 1, reason: 'x' }, T0, ctx)).toThrow(
      /not higher/,
    );
    const closed = { ...reg, state: 'closed' as const };
    expect(() => applySensorUpdate(closed, { kind: 'raise_priority', priority: 1, reason: 'x' }, T0, ctx)).toThrow(
      DomainError,
    );
  });
});
