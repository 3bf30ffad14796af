/**
 * The wall's /live client and the state it feeds, with a fake socket and a hand-driven animation frame
 * (unit tests of the client's core; the browser tests drive the real thing).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Live } from './live.svelte.ts';
import { WallState } from './wall/state.svelte.ts';
import type { Device, LiveMsg } from './wall/types.ts';

class FakeSocket {
  static last: FakeSocket | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(m: unknown) {
    this.onmessage?.({ data: typeof m === 'string' ? m : JSON.stringify(m) });
  }
  close() {}
}

let frames: ((t: number) => void)[] = [];
/** Run this frame's callbacks with timestamp t (callbacks registered meanwhile wait for the next). */
function frame(t: number) {
  const run = frames;
  frames = [];
  for (const f of run) f(t);
}

beforeEach(() => {
  vi.useFakeTimers();
  frames = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  vi.stubGlobal('location', { protocol: 'http:', host: 'wall.test' });
  vi.stubGlobal('requestAnimationFrame', (f: (t: number) => void) => frames.push(f));
  vi.stubGlobal('cancelAnimationFrame', () => {
    frames = [];
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function open(onbatch: (b: LiveMsg[], t: number | null) => void, onresync = () => {}, maxQueue?: number) {
  const live = new Live<LiveMsg>({ onbatch, onresync, maxQueue });
  live.start();
  const ws = FakeSocket.last!;
  ws.onopen?.();
  ws.send({ type: 'hello', seq: 10 });
  return { live, ws };
}

const dev = (seq: number, id = 'd1', online = true): LiveMsg => ({ type: 'device', seq, id, online, lastSeen: seq });

describe('Live', () => {
  it('delivers what arrived between frames as one batch, in the frame, with its timestamp', () => {
    const batches: [number, number | null][] = [];
    const { ws } = open((b, t) => batches.push([b.length, t]));
    for (let s = 11; s <= 510; s++) ws.send(dev(s));
    frame(1000);
    ws.send(dev(511));
    frame(1016);
    expect(batches).toEqual([
      [500, 1000],
      [1, 1016],
    ]);
  });

  it('delivers within 100 ms when no frame comes (a hidden tab, a slow renderer), without a timestamp', () => {
    const batches: [number, number | null][] = [];
    const { ws } = open((b, t) => batches.push([b.length, t]));
    ws.send(dev(11));
    ws.send(dev(12));
    vi.advanceTimersByTime(99);
    expect(batches).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[2, null]]);
    frame(2000); // the cancelled frame delivers nothing twice
    expect(batches).toHaveLength(1);
  });

  it('skips replayed and malformed messages, and asks for a resync instead of growing without bound', () => {
    const got: number[] = [];
    let resyncs = 0;
    const { ws } = open(
      (b) => got.push(...b.map((m) => m.seq)),
      () => resyncs++,
      3,
    );
    ws.send(dev(11));
    ws.send(dev(11)); // replay overlap
    ws.onmessage?.({ data: '{not json' });
    frame(1);
    expect(got).toEqual([11]);
    for (let s = 12; s <= 16; s++) ws.send(dev(s)); // overflows a queue of 3
    frame(2);
    expect(resyncs).toBe(1);
    expect(got).toEqual([11]);
  });
});

describe('WallState.apply', () => {
  function wallWith(devices: Partial<Device>[]) {
    const w = new WallState();
    w.devices = devices.map((d) => ({ online: false, lastSeen: null, ...d }) as Device);
    for (const d of w.devices) w.deviceById.set(d.id, d);
    return w;
  }

  it('applies device news in place, bumps the version once a batch, and tells listeners with the frame time', () => {
    const w = wallWith([{ id: 'a' }, { id: 'b' }]);
    const told: (number | null)[] = [];
    const off = w.onChange((t) => told.push(t));
    const v0 = w.deviceVersion;
    w.apply([dev(1, 'a', true), dev(2, 'b', true), dev(3, 'a', false), dev(4, 'nobody', true)], 1234);
    expect(w.deviceVersion).toBe(v0 + 1);
    expect(w.deviceById.get('a')!.online).toBe(false);
    expect(w.devicesOnline).toBe(1);
    expect(told).toEqual([1234]);
    off();
    w.apply([dev(5, 'a', true)], null);
    expect(told).toEqual([1234]);
  });

  it('keeps the newest version of a case, and a fire alarm lights its grid and the feed', () => {
    const w = new WallState();
    const now = Date.now();
    const c = {
      id: 'c1',
      code: 'C-1',
      title: '火警',
      category: 'fire.fire_alarm',
      priority: 1,
      state: 'dispatched',
      level: 'community',
      source: 'sensor',
      version: 3,
      createdAt: now,
      updatedAt: now,
      overdue: false,
      location: [117.15, 39.17],
      grid: { grid: '120106001001001' },
    } as unknown as Extract<LiveMsg, { type: 'case' }>['case'];
    w.apply([{ type: 'case', seq: 1, action: 'intake', case: c }]);
    w.apply([{ type: 'case', seq: 2, action: 'dispatch', case: { ...c, version: 2, state: 'closed' } }]); // late, older
    expect(w.cases.get('c1')!.state).toBe('dispatched');
    expect(w.alarms.map((a) => a.id)).toEqual(['c1']);
    expect(w.gridLoad.get('120106001001001')).toEqual({ open: 1, alarm: true, overdue: false });
    expect(w.feed.map((e) => [e.id, e.event])).toEqual([['c1', 'created']]);
  });
});
