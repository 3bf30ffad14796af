import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coalesceDecisions, RuleEngine } from './engine.ts';
import { DEFAULT_RULES, parseRules } from './rulesfile.ts';
import type { LngLat, OpenCaseDecision, RuleDecision, RuleEvent } from './types.ts';

const T0 = Date.UTC(2026, 10, 23, 1, 0, 0);
const S = 1000;
const P: LngLat = [117.2, 39.13];
const north = (m: number): LngLat => [P[0], P[1] + m / 111_195];
const G1 = { district: '120106', street: '120106001', community: '120106001002', grid: '120106001002003' };
const G2 = { ...G1, grid: '120106001002004' };

function ev(o: Partial<RuleEvent> & { type: string }): RuleEvent {
  return { deviceId: 'smoke-1', deviceKind: 'smoke', ts: T0, loc: P, grid: G1, attrs: {}, ...o };
}
const opens = (ds: RuleDecision[]): OpenCaseDecision[] =>
  ds.filter((d): d is OpenCaseDecision => d.kind === 'open_case');

describe('default rules', () => {
  it('fire_alarm → P1 case, registered and dispatched to fire, cameras within 300 m', () => {
    const e = new RuleEngine();
    const ds = e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      kind: 'open_case',
      category: 'fire.fire_alarm',
      priority: 1,
      autoRegister: true,
      autoDispatch: 'fire',
      linkCamerasRadiusM: 300,
      location: P,
      grid: G1,
      source: 'sensor',
      eventCount: 1,
    });
  });
  it('smoke_alarm → suspected fire P2 with cameras; a camera fire detection within 200 m / 5 min fuses and raises to P1', () => {
    const e = new RuleEngine();
    const [open] = e.onEvent(ev({ type: 'smoke_alarm' }), T0) as OpenCaseDecision[];
    expect(open).toMatchObject({
      kind: 'open_case',
      category: 'fire.suspected_fire',
      priority: 2,
      autoRegister: true,
      linkCamerasRadiusM: 300,
    });
    expect(open.autoDispatch).toBeUndefined();
    const cam = e.onEvent(
      ev({
        type: 'ai_detection',
        deviceId: 'cam-1',
        deviceKind: 'camera',
        loc: north(150),
        ts: T0 + 4 * 60 * S,
        attrs: { label: 'fire', score: 0.9 },
      }),
      T0 + 4 * 60 * S,
    );
    expect(cam).toEqual([
      expect.objectContaining({ kind: 'add_to_case', key: open.key, reason: 'fusion' }),
      expect.objectContaining({ kind: 'raise_priority', key: open.key, priority: 1 }),
    ]);
    // more frames from the same camera fold into the same case, no second raise
    const again = e.onEvent(
      ev({
        type: 'ai_detection',
        deviceId: 'cam-1',
        deviceKind: 'camera',
        loc: north(150),
        ts: T0 + 5 * 60 * S,
        attrs: { label: 'smoke', score: 0.9 },
      }),
      T0,
    );
    expect(again.map((d) => d.kind)).toEqual(['add_to_case']);
  });
  it('camera first, smoke alarm second also fuses and raises', () => {
    const e = new RuleEngine();
    const [open] = opens(
      e.onEvent(
        ev({ type: 'ai_detection', deviceId: 'cam-1', deviceKind: 'camera', attrs: { label: 'smoke', score: 0.8 } }),
        T0,
      ),
    );
    expect(open).toMatchObject({ source: 'camera', priority: 2 });
    const ds = e.onEvent(ev({ type: 'smoke_alarm', loc: north(100), ts: T0 + 60 * S }), T0);
    expect(ds.map((d) => d.kind)).toEqual(['add_to_case', 'raise_priority']);
  });
  it('no fusion beyond 200 m or 5 minutes, or below the score threshold', () => {
    const e = new RuleEngine();
    e.onEvent(ev({ type: 'smoke_alarm' }), T0);
    const far = e.onEvent(
      ev({
        type: 'ai_detection',
        deviceId: 'cam-1',
        deviceKind: 'camera',
        loc: north(250),
        ts: T0 + 60 * S,
        attrs: { label: 'fire', score: 0.9 },
      }),
      T0,
    );
    expect(far.map((d) => d.kind)).toEqual(['open_case']);
    const e2 = new RuleEngine();
    e2.onEvent(ev({ type: 'smoke_alarm' }), T0);
    const late = e2.onEvent(
      ev({
        type: 'ai_detection',
        deviceId: 'cam-1',
        deviceKind: 'camera',
        loc: north(50),
        ts: T0 + 6 * 60 * S,
        attrs: { label: 'fire', score: 0.9 },
      }),
      T0,
    );
    expect(late.map((d) => d.kind)).toEqual(['open_case']);
    const weak = e2.onEvent(
      ev({ type: 'ai_detection', deviceId: 'cam-2', deviceKind: 'camera', attrs: { label: 'fire', score: 0.3 } }),
      T0,
    );
    expect(weak).toEqual([]);
  });
  it('1,000 repeats of the same device and type make one case carrying the count', () => {
    const e = new RuleEngine();
    const all: RuleDecision[] = [];
    for (let i = 0; i < 1000; i++)
      all.push(...e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1', ts: T0 + i * S }), T0 + i * S));
    expect(opens(all)).toHaveLength(1);
    const c = coalesceDecisions(all);
    expect(c).toHaveLength(2);
    expect(c[1]).toMatchObject({ kind: 'add_to_case', key: opens(all)[0].key, count: 999, reason: 'repeat' });
  });
  it('after the case closes, the next event opens a new one', () => {
    const e = new RuleEngine();
    const [a] = opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0));
    e.onCaseClosed(a.key);
    const [b] = opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1', ts: T0 + S }), T0 + S));
    expect(b.key).not.toBe(a.key);
  });
  it('storm: 1,000 alarms from different devices in one grid make a bounded number of cases with counts', () => {
    const e = new RuleEngine();
    const all: RuleDecision[] = [];
    for (let i = 0; i < 1000; i++) {
      all.push(...e.onEvent(ev({ type: 'fire_alarm', deviceId: `fa-${i}`, ts: T0 + i * 100 }), T0 + i * 100));
    }
    const opened = opens(all);
    expect(opened.length).toBe(DEFAULT_RULES.storm.maxCasesPerGridRule);
    const added = all.filter((d) => d.kind === 'add_to_case').reduce((n, d) => n + (d as { count: number }).count, 0);
    expect(opened.length + added).toBe(1000);
    // another grid has its own budget
    expect(opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-x', grid: G2, ts: T0 + 200 * S }), T0))).toHaveLength(
      1,
    );
    // the window passes: new cases again
    e.onTick(T0 + 20 * 60 * S);
    expect(
      opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-y', ts: T0 + 20 * 60 * S }), T0 + 20 * 60 * S)),
    ).toHaveLength(1);
  });
  it('smoke alarms from many devices in one spot fuse into one case', () => {
    const e = new RuleEngine();
    const all: RuleDecision[] = [];
    for (let i = 0; i < 200; i++)
      all.push(...e.onEvent(ev({ type: 'smoke_alarm', deviceId: `sm-${i}`, loc: north(i % 150), ts: T0 + i * S }), T0));
    expect(opens(all)).toHaveLength(1);
    expect(all.filter((d) => d.kind === 'raise_priority')).toHaveLength(0); // same modality: no raise
  });
  it('AI detections map to categories above their score threshold', () => {
    const e = new RuleEngine();
    const cases: Array<[string, string]> = [
      ['street_vending', 'street_order.street_vending'],
      ['exposed_garbage', 'city_appearance.exposed_garbage'],
      ['illegal_parking', 'street_order.illegal_parking'],
      ['crowding', 'street_order.crowding'],
    ];
    for (const [label, category] of cases) {
      const ds = e.onEvent(
        ev({ type: 'ai_detection', deviceId: 'cam-9', deviceKind: 'camera', attrs: { label, score: 0.95 } }),
        T0,
      );
      expect(ds).toEqual([
        expect.objectContaining({ kind: 'open_case', category, source: 'camera', autoRegister: false }),
      ]);
    }
    expect(
      e.onEvent(
        ev({
          type: 'ai_detection',
          deviceId: 'cam-9',
          deviceKind: 'camera',
          attrs: { label: 'street_vending', score: 0.95 },
        }),
        T0,
      )[0].kind,
    ).toBe('add_to_case');
    expect(
      e.onEvent(
        ev({
          type: 'ai_detection',
          deviceId: 'cam-8',
          deviceKind: 'camera',
          attrs: { label: 'street_vending', score: 0.5 },
        }),
        T0,
      ),
    ).toEqual([]);
    expect(
      e.onEvent(
        ev({ type: 'ai_detection', deviceId: 'cam-8', deviceKind: 'camera', attrs: { label: 'cat', score: 0.99 } }),
        T0,
      ),
    ).toEqual([]);
    expect(e.onEvent(ev({ type: 'door_open' }), T0)).toEqual([]);
  });
});

describe('thresholds', () => {
  const reading = (v: number, ts: number, deviceId = 'th-1') => ({
    deviceId,
    ts,
    metrics: { temp_c: v },
    loc: P,
    grid: G1,
  });
  it('temp_c > 70 for 30 s opens a case; a dip above the clear bound does not reset; below 65 clears', () => {
    const e = new RuleEngine();
    expect(e.onReading(reading(75, T0), T0)).toEqual([]);
    expect(e.onReading(reading(76, T0 + 10 * S), T0)).toEqual([]);
    expect(e.onReading(reading(68, T0 + 20 * S), T0)).toEqual([]); // between 65 and 70: still holding
    const ds = e.onReading(reading(74, T0 + 30 * S), T0);
    expect(ds).toEqual([
      expect.objectContaining({ kind: 'open_case', category: 'environment.high_temperature', priority: 2 }),
    ]);
    const key = (ds[0] as OpenCaseDecision).key;
    expect(e.onReading(reading(80, T0 + 40 * S), T0)).toEqual([]); // active: no repeat
    expect(e.onReading(reading(66, T0 + 50 * S), T0)).toEqual([]); // hysteresis: not cleared yet
    expect(e.onReading(reading(60, T0 + 60 * S), T0)).toEqual([
      expect.objectContaining({ kind: 'condition_cleared', key }),
    ]);
    // again past the threshold while the case is open → added to it
    e.onReading(reading(75, T0 + 70 * S), T0);
    expect(e.onReading(reading(75, T0 + 100 * S), T0)).toEqual([expect.objectContaining({ kind: 'add_to_case', key })]);
  });
  it('a run shorter than the duration, broken below the clear bound, opens nothing', () => {
    const e = new RuleEngine();
    e.onReading(reading(75, T0), T0);
    e.onReading(reading(75, T0 + 20 * S), T0);
    e.onReading(reading(60, T0 + 25 * S), T0);
    expect(e.onReading(reading(75, T0 + 35 * S), T0)).toEqual([]);
    expect(e.onReading(reading(75, T0 + 50 * S), T0)).toEqual([]);
    expect(opens(e.onReading(reading(75, T0 + 65 * S), T0))).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('no message for 3 × the interval opens a device-offline case; a message clears it', () => {
    const e = new RuleEngine();
    e.watchDevice({ deviceId: 'sm-1', deviceKind: 'smoke', intervalS: 60, loc: P, grid: G1 }, T0);
    expect(e.onTick(T0 + 180 * S)).toEqual([]);
    const ds = e.onTick(T0 + 181 * S);
    expect(ds).toEqual([
      expect.objectContaining({
        kind: 'open_case',
        category: 'facility_fault.device_offline',
        priority: 3,
        deviceId: 'sm-1',
      }),
    ]);
    expect(e.onTick(T0 + 400 * S)).toEqual([]); // once
    const back = e.onReading({ deviceId: 'sm-1', ts: T0 + 401 * S, metrics: {}, loc: P, grid: G1 }, T0 + 401 * S);
    expect(back).toEqual([
      expect.objectContaining({ kind: 'condition_cleared', key: (ds[0] as OpenCaseDecision).key }),
    ]);
    // messages keep it alive
    e.onEvent(ev({ type: 'fault', deviceId: 'sm-1', ts: T0 + 500 * S }), T0 + 500 * S);
    expect(e.onTick(T0 + 600 * S)).toEqual([]);
  });
});

describe('rules swap', () => {
  it('setRules takes effect for the next events; state stays', () => {
    const e = new RuleEngine();
    const [a] = opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0));
    e.setRules(
      parseRules(
        '{ "version": 1, "events": [ { "name": "x", "type": "fire_alarm", "category": "fire", "priority": 2 } ] }',
      ),
    );
    expect(e.onEvent(ev({ type: 'smoke_alarm' }), T0)).toEqual([]);
    // the open case of the device still takes repeats
    expect(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0)[0]).toMatchObject({
      kind: 'add_to_case',
      key: a.key,
    });
    expect(opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-2', grid: G2 }), T0))[0]).toMatchObject({
      priority: 2,
      autoRegister: false,
    });
  });
  it('state is plain data: a snapshot restores an equivalent engine', () => {
    const e = new RuleEngine();
    const [a] = opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0));
    const copy = new RuleEngine(DEFAULT_RULES, JSON.parse(JSON.stringify(e.snapshot())));
    expect(copy.onEvent(ev({ type: 'fire_alarm', deviceId: 'fa-1' }), T0)[0]).toMatchObject({
      kind: 'add_to_case',
      key: a.key,
    });
  });
});

describe('hostile ids', () => {
  it('device ids that name Object members are ordinary ids', () => {
    const e = new RuleEngine();
    for (const id of ['__proto__', 'constructor', 'toString']) {
      e.watchDevice({ deviceId: id, deviceKind: 'smoke', intervalS: 10, loc: P, grid: G1 }, T0);
      expect(opens(e.onEvent(ev({ type: 'fire_alarm', deviceId: id, grid: { ...G1, grid: id } }), T0))).toHaveLength(1);
    }
    expect(opens(e.onTick(T0 + 31 * S))).toHaveLength(3);
    expect(({} as Record<string, unknown>).lastSeen).toBeUndefined();
  });
});

describe('engine properties', () => {
  it('every matched event lands in exactly one case, and no (grid, rule) opens more than the storm bound per window', () => {
    const types = ['fire_alarm', 'smoke_alarm', 'gas_alarm', 'ai_detection', 'door_open'];
    const evArb = fc.record({
      type: fc.constantFrom(...types),
      device: fc.integer({ min: 0, max: 30 }),
      grid: fc.integer({ min: 0, max: 2 }),
      dm: fc.integer({ min: 0, max: 400 }),
      dt: fc.integer({ min: 0, max: 20 * S }),
      label: fc.constantFrom('fire', 'smoke', 'street_vending'),
    });
    fc.assert(
      fc.property(fc.array(evArb, { maxLength: 300 }), (evs) => {
        const e = new RuleEngine();
        const opened = new Map<string, number>(); // grid|rule → count within the run (all within one window)
        let ts = T0;
        let matched = 0;
        let landed = 0;
        for (const x of evs) {
          ts += x.dt;
          const camera = x.type === 'ai_detection';
          const ds = e.onEvent(
            ev({
              type: x.type,
              deviceId: `${camera ? 'cam' : 'dev'}-${x.device}`,
              deviceKind: camera ? 'camera' : 'smoke',
              loc: north(x.dm),
              grid: { ...G1, grid: `12010600100200${x.grid}` },
              ts,
              attrs: camera ? { label: x.label, score: 0.9 } : {},
            }),
            ts,
          );
          if (x.type !== 'door_open') matched++;
          for (const d of ds) {
            if (d.kind === 'open_case') {
              landed++;
              const k = `${d.grid.grid}|${d.rule}`;
              opened.set(k, (opened.get(k) ?? 0) + 1);
            } else if (d.kind === 'add_to_case') landed += d.count;
          }
        }
        expect(landed).toBe(matched);
        // 300 events × ≤ 20 s stay inside one 600 s storm window only partly, so bound per elapsed window
        const windows = Math.floor((ts - T0) / (DEFAULT_RULES.storm.windowS * S)) + 1;
        for (const n of opened.values())
          expect(n).toBeLessThanOrEqual(DEFAULT_RULES.storm.maxCasesPerGridRule * windows);
      }),
      { numRuns: 150 },
    );
  });
});

describe('issue 12: stored facts, late reports, receipt time, liveness', () => {
  const G = { district: '120106', street: '120106001', community: '120106001001', grid: '120106001001004' };
  const P: [number, number] = [117.1245523, 39.182251];
  const C: [number, number] = [117.1247838, 39.1822508];
  const T0 = Date.UTC(2026, 10, 29, 12, 15);

  it('a fire detector 8 h fast and a camera detection 20 m away fuse (rules use receipt time)', () => {
    const e = new RuleEngine();
    const a = e.onEvent(
      {
        deviceId: 'smk',
        deviceKind: 'smoke',
        type: 'smoke_alarm',
        ts: T0, // the runner passes receipt time for clock_skew
        occurredAt: T0 + 8 * 3600_000,
        receivedAt: T0,
        timeFlag: 'clock_skew',
        loc: P,
        grid: G,
        attrs: {},
      },
      T0,
    );
    expect(a.map((d) => d.kind)).toEqual(['open_case']);
    const b = e.onEvent(
      {
        deviceId: 'cam',
        deviceKind: 'camera',
        type: 'ai_detection',
        ts: T0 + 25_000,
        loc: C,
        grid: G,
        attrs: { label: 'smoke', score: 0.79 },
      },
      T0 + 26_000,
    );
    expect(b.map((d) => d.kind)).toEqual(['add_to_case', 'raise_priority']);
  });

  it('a late alarm opens its own late case, never registered or dispatched, never fused', () => {
    const e = new RuleEngine();
    const [d] = e.onEvent(
      {
        deviceId: 'gas',
        deviceKind: 'gas',
        type: 'gas_alarm',
        ts: T0 - 72 * 3600_000,
        occurredAt: T0 - 72 * 3600_000,
        receivedAt: T0,
        timeFlag: 'late',
        loc: P,
        grid: G,
        attrs: {},
      },
      T0,
    );
    expect(d).toMatchObject({ kind: 'open_case', late: true, autoRegister: false });
    expect((d as { autoDispatch?: string }).autoDispatch).toBeUndefined();
    expect((d as { title: string }).title).toContain('迟报');
  });

  it('later phases of one fact count nothing, even after its case was closed; a detection without score counts', () => {
    const e = new RuleEngine();
    const ev = (score: number | undefined) => ({
      deviceId: 'cam',
      deviceKind: 'camera',
      type: 'ai_detection',
      ts: T0,
      loc: C,
      grid: G,
      attrs: score === undefined ? { label: 'fire' } : { label: 'fire', score },
      factId: 'cam/obj-1',
    });
    const first = e.onEvent(ev(undefined), T0);
    expect(first.map((d) => d.kind)).toEqual(['open_case']);
    expect(e.onEvent(ev(0.9), T0 + 1000)).toEqual([]);
    e.onCaseClosed((first[0] as { key: string }).key);
    expect(e.onEvent(ev(0.95), T0 + 2000)).toEqual([]);
  });

  it('a gateway going silent raises one case, not one per child', () => {
    const e = new RuleEngine();
    e.watchDevice({ deviceId: 'gw', deviceKind: 'gateway', intervalS: 60, loc: P, grid: G }, T0);
    for (const id of ['c1', 'c2', 'c3'])
      e.watchDevice({ deviceId: id, deviceKind: 'sensor', intervalS: 60, gateway: 'gw', loc: P, grid: G }, T0);
    const ds = e.onTick(T0 + 181_000);
    expect(ds.filter((d) => d.kind === 'open_case').map((d) => (d as { deviceId: string }).deviceId)).toEqual(['gw']);
  });
});
