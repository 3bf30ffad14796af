/**
 * Rules runner over PGlite with core's default rules: what ingest commits becomes cases — fire alarm
 * dispatched to the fire department at priority 1 with linked cameras, smoke + camera fire fused and raised,
 * repeats folded, storms bounded, heartbeat loss, threshold with duration — and the rules file reloads
 * without a restart, refusing a bad file with its line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../../ingest/store/db.ts';
import { RulesRunner, type CommittedEvent } from '../../ingest/cases/rules-runner.ts';
import type { CaseService } from '../../ingest/cases/service.ts';
import { DEFAULT_RULES_TEXT } from '../../core/rules/index.ts';
import { USERS, actor, caseService, pgliteDb, silentLog, type Clock } from './helpers.ts';

let db: Db;
let svc: CaseService;
let clock: Clock;
let dir: string;
let runner: RulesRunner;
const admin = actor(USERS.admin);

beforeAll(async () => {
  db = await pgliteDb();
  ({ svc, clock } = await caseService(db));
  await db.query(
    `INSERT INTO devices (id, kind, lng, lat, grid, interval_s, interval_set) VALUES
       ('fa-1', 'smoke', 117.2001, 39.1, '120106001001001', 60, true),
       ('sm-1', 'smoke', 117.206, 39.1, '120106001001001', 60, true),
       ('cam-fire', 'camera', 117.2062, 39.1005, '120106001001001', 60, true),
       ('hb-1', 'sensor', 117.2, 39.1, '120106001001001', 10, true),
       ('th-1', 'sensor', 117.2, 39.1, '120106001001001', 60, true)`,
  );
  await svc.refreshCameras();
  dir = mkdtempSync(path.join(tmpdir(), 'onegrid-rules-'));
  runner = new RulesRunner(svc, {
    rulesPath: path.join(dir, 'rules.json'),
    log: silentLog,
    pollMs: 50,
    tickMs: 3_600_000,
  });
  await runner.start();
});
afterAll(async () => {
  await runner?.stop();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (deviceId: string, type: string, extra: Partial<CommittedEvent> = {}): CommittedEvent => ({
  deviceId,
  deviceKind: deviceId.startsWith('cam') ? 'camera' : 'smoke',
  ts: new Date(clock.now()),
  type,
  severity: null,
  lng: 117.2001,
  lat: 39.1,
  grid: '120106001001001',
  attrs: {},
  ...extra,
});

async function casesOf(deviceId: string) {
  const page = await svc.list({ limit: 500 }, admin);
  return page.cases.filter((c) => (c as { attributes?: { deviceId?: string } }).attributes?.deviceId === deviceId);
}

describe('rules runner', () => {
  afterEach(async () => {
    await runner.idle();
  });

  it('a fire alarm becomes a priority-1 case dispatched to the fire department, with linked cameras', async () => {
    runner.onEvents([ev('fa-1', 'fire_alarm')]);
    await runner.idle();
    const [c] = await casesOf('fa-1');
    expect(c).toBeDefined();
    expect(c.priority).toBe(1);
    expect(c.state).toBe('dispatched');
    expect(c.assignee).toEqual({ kind: 'department', id: 'fire' });
    expect(c.category).toBe('fire.fire_alarm');
    expect(c.source).toBe('sensor');
    expect(c.deadline).toBe(clock.now() + 30 * 60_000);
    expect(c.linkedCameras).toEqual(['cam-near-1', 'cam-near-2']);
    expect(c.linkedCameras).not.toContain('cam-far');
    const t = await svc.trail(c.id, admin);
    expect(t.entries.map((e) => e.action)).toEqual(['intake', 'register', 'dispatch']);
    expect(t.verified).toBe(true);
  });

  it('1,000 repeats of the same alarm make one case with eventCount 1000', async () => {
    for (let i = 1; i < 1000; i += 111) {
      const n = Math.min(111, 1000 - i);
      runner.onEvents(Array.from({ length: n }, () => ev('fa-1', 'fire_alarm')));
    }
    await runner.idle();
    const cs = await casesOf('fa-1');
    expect(cs).toHaveLength(1);
    expect(cs[0].eventCount).toBe(1000);
    expect(cs[0].version).toBe(3); // counters do not invalidate what people saw
    expect((await svc.trail(cs[0].id, admin)).verified).toBe(true);
  });

  it('a smoke alarm and a camera fire detection within 200 m and 5 min fuse into one case raised to P1', async () => {
    // ~420 m from the fire alarm: outside its fusion radius
    runner.onEvents([ev('sm-1', 'smoke_alarm', { lng: 117.206, lat: 39.1 })]);
    await runner.idle();
    const [c] = await casesOf('sm-1');
    expect(c.priority).toBe(2);
    expect(c.state).toBe('registered');
    expect(c.linkedCameras).toEqual(['cam-fire']);
    clock.advance(60_000);
    runner.onEvents([
      ev('cam-fire', 'ai_detection', { lng: 117.2062, lat: 39.1005, attrs: { label: 'fire', score: 0.9 } }),
    ]);
    await runner.idle();
    const after = await svc.get(c.id, admin);
    expect(after.priority).toBe(1);
    expect(after.eventCount).toBe(2);
    expect(after.linkedCameras).toContain('cam-fire');
    expect(await casesOf('cam-fire')).toHaveLength(0);
    const t = await svc.trail(c.id, admin);
    expect(t.entries.map((e) => e.action)).toEqual(['intake', 'register', 'add_events', 'raise_priority']);
  });

  it('a closed case lets the next alarm open a new one', async () => {
    const [c] = await casesOf('fa-1');
    await db.query(`UPDATE cases SET state = 'closed', doc = jsonb_set(doc, '{state}', '"closed"') WHERE id = $1`, [
      c.id,
    ]);
    // the service tells the runner when it closes a case itself; here the row was closed directly
    runner.onEvents([ev('fa-1', 'fire_alarm')]);
    await runner.idle();
    const open = (await casesOf('fa-1')).filter((x) => x.state !== 'closed');
    expect(open).toHaveLength(1);
    expect(open[0].id).not.toBe(c.id);
    expect(open[0].state).toBe('dispatched');
    // and a case closed through the service is forgotten by the engine at once
    const fire = actor(USERS.fire);
    let x = await svc.act(open[0].id, { action: 'claim', version: open[0].version }, fire);
    x = await svc.act(x.id, { action: 'handle', result: 'false alarm', version: x.version }, fire);
    x = await svc.act(x.id, { action: 'verify', pass: true, version: x.version }, actor(USERS.dispatcher));
    expect(x.state).toBe('closed');
    runner.onEvents([ev('fa-1', 'fire_alarm')]);
    await runner.idle();
    expect((await casesOf('fa-1')).filter((k) => k.state !== 'closed')).toHaveLength(1);
    expect(await casesOf('fa-1')).toHaveLength(3);
  });

  it('after a restart (a fresh engine), a repeat folds into the open case by its rule key', async () => {
    const before = (await casesOf('fa-1')).filter((k) => k.state !== 'closed');
    expect(before).toHaveLength(1);
    const fresh = new RulesRunner(svc, { rulesPath: null, log: silentLog, tickMs: 3_600_000 });
    await fresh.start();
    try {
      fresh.onEvents([ev('fa-1', 'fire_alarm'), ev('fa-1', 'fire_alarm')]);
      await fresh.idle();
    } finally {
      await fresh.stop();
    }
    const after = (await casesOf('fa-1')).filter((k) => k.state !== 'closed');
    expect(after).toHaveLength(1);
    expect(after[0].id).toBe(before[0].id);
    expect(after[0].eventCount).toBe(before[0].eventCount + 2);
  });

  it('a burst of 1,000 alarms from different devices in one grid makes a bounded number of cases', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `storm-${i}`);
    await db.query(
      `INSERT INTO devices (id, kind, lng, lat, grid) SELECT unnest($1::text[]), 'gas', 117.205, 39.105, '120106001001001'`,
      [ids],
    );
    runner.onEvents(ids.map((id) => ev(id, 'gas_alarm', { deviceKind: 'gas', lng: 117.205, lat: 39.105 })));
    await runner.idle();
    const r = await db.query<{ n: number; events: number }>(
      `SELECT count(*)::int AS n, sum((doc->>'eventCount')::int)::int AS events FROM cases WHERE category = 'fire.gas_alarm'`,
    );
    expect(r.rows[0].n).toBeLessThanOrEqual(10);
    expect(r.rows[0].events).toBe(1000);
  });

  it('a threshold held for its duration raises a case; heartbeat loss raises a device-offline case', async () => {
    const reading = (v: number) => ({
      deviceId: 'th-1',
      deviceKind: 'sensor',
      ts: new Date(clock.now()),
      metrics: { temp_c: v },
      lng: 117.2,
      lat: 39.1,
      grid: '120106001001001',
    });
    runner.onReadings([reading(75)]);
    clock.advance(31_000);
    runner.onReadings([reading(76)]);
    await runner.idle();
    expect((await casesOf('th-1')).map((c) => c.category)).toEqual(['environment.high_temperature']);

    runner.onReadings([{ ...reading(20), deviceId: 'hb-1' }]);
    clock.advance(31_000);
    runner.tick();
    await runner.idle();
    expect((await casesOf('hb-1')).map((c) => c.category)).toEqual(['facility_fault.device_offline']);
  });

  it('reloads the rules file without a restart and refuses a bad one with its line', async () => {
    const file = path.join(dir, 'rules.json');
    // a file that turns smoke alarms into priority-3 cases
    writeFileSync(
      file,
      DEFAULT_RULES_TEXT.replace(
        '"category": "fire.suspected_fire", "priority": 2,\n      "title": "疑似火情 Suspected fire (smoke alarm)"',
        '"category": "fire.suspected_fire", "priority": 3,\n      "title": "疑似火情 Suspected fire (smoke alarm)"',
      ),
    );
    await waitFor(() => runner.rulesStatus().source === 'file');
    expect(runner.engine.getRules().events.find((e) => e.type === 'smoke_alarm')?.priority).toBe(3);

    writeFileSync(file, '{\n  "version": 1,\n  "events": [ oops ]\n}\n');
    await waitFor(() => runner.rulesStatus().error !== null);
    expect(runner.rulesStatus().error).toMatch(/line 3/);
    expect(runner.engine.getRules().events.find((e) => e.type === 'smoke_alarm')?.priority).toBe(3);

    unlinkSync(file);
    await waitFor(() => runner.rulesStatus().source === 'default');
    expect(runner.engine.getRules().events.find((e) => e.type === 'smoke_alarm')?.priority).toBe(2);
  });
});

async function waitFor(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
