/**
 * The grid worker's app, server side, through the real platform process (`node bin/onegrid.js start`):
 * idempotent outbox actions under random disconnects and repeats, resumable photo uploads stored once,
 * self-handled reports, tasks and scope, on-site checks (核查) within 50 m or with a recorded override, and
 * patrol tracks with their distance, coverage and the wall's patrol layer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { randomUUID, createHash } from 'node:crypto';
import sharp from 'sharp';
import exifr from 'exifr';
import type { Polygon } from 'geojson';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import type { Role } from '../../ingest/store/users.ts';
import { dataDirWithUsers, FIELD_PW as PW } from './users.ts';
import { haversineM } from '../../core/rules/geo.ts';
import { coverageOf, type Fix } from '../../core/field/patrol.ts';

const GRID1 = '120106001001001';
const GRID2 = '120106001001002';
const COMMUNITY = '120106001001';
const grids = JSON.parse(readFileSync('geo-data/sample/grids.geojson', 'utf8')) as {
  features: { properties: { code: string }; geometry: Polygon }[];
};
const polygonOf = (code: string) => grids.features.find((f) => f.properties.code === code)!.geometry;
/** A point well inside grid 1: the mean of its ring's vertices (the sample grids are convex-ish blocks). */
const ring1 = polygonOf(GRID1).coordinates[0];
const INSIDE: [number, number] = [
  ring1.slice(0, -1).reduce((s, p) => s + p[0], 0) / (ring1.length - 1),
  ring1.slice(0, -1).reduce((s, p) => s + p[1], 0) / (ring1.length - 1),
];

let p: PlatformHandle;
let dataDir: string;
const tok: Record<string, string> = {};

async function http(method: string, url: string, who: string, body?: unknown, headers: Record<string, string> = {}) {
  const raw = body instanceof Uint8Array;
  const r = await fetch(p.url + url, {
    method,
    headers: {
      authorization: `Bearer ${tok[who]}`,
      ...(body === undefined ? {} : { 'content-type': raw ? 'application/octet-stream' : 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: (raw ? body : JSON.stringify(body)) as BodyInit }),
  });
  const type = r.headers.get('content-type') ?? '';
  const out = type.includes('json') ? await r.json() : Buffer.from(await r.arrayBuffer());
  return { status: r.status, body: out as any, headers: r.headers };
}

/** A JPEG unique to `seed`, with EXIF GPS at `at` ([lng, lat]) when given. */
async function photo(seed: number, at?: [number, number]): Promise<Buffer> {
  const img = sharp({
    create: {
      width: 96,
      height: 64,
      channels: 3,
      background: { r: seed % 256, g: (seed * 7) % 256, b: (seed * 13) % 256 },
    },
  }).jpeg({ quality: 90 });
  if (!at) return img.toBuffer();
  const dms = (v: number) => {
    const d = Math.floor(v);
    const m = Math.floor((v - d) * 60);
    const s = Math.round(((v - d) * 60 - m) * 60 * 10000);
    return `${d}/1 ${m}/1 ${s}/10000`;
  };
  return img
    .withExif({
      IFD2: { DateTimeOriginal: '2026:11:29 10:00:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: dms(at[1]), GPSLongitudeRef: 'E', GPSLongitude: dms(at[0]) },
    })
    .toBuffer();
}

/** Upload in chunks of `chunk` bytes; `breakAt` aborts one PUT mid-way (a broken connection) and resumes. */
async function upload(who: string, bytes: Buffer, chunk = 300, breakAt = -1): Promise<string> {
  const id = randomUUID();
  const init = await http('POST', '/api/field/uploads', who, { id, size: bytes.length });
  expect(init.status).toBe(201);
  let offset = 0;
  let n = 0;
  while (offset < bytes.length) {
    const part = bytes.subarray(offset, offset + chunk);
    if (n++ === breakAt) {
      const ac = new AbortController();
      const f = fetch(`${p.url}/api/field/uploads/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tok[who]}`, 'upload-offset': String(offset) },
        body: part as unknown as BodyInit,
        signal: ac.signal,
      }).catch(() => null);
      ac.abort();
      await f;
      // Resume: ask where the upload stands.
      const st = await http('GET', `/api/field/uploads/${id}`, who);
      expect(st.status).toBe(200);
      offset = st.body.received;
      continue;
    }
    const r = await http('PUT', `/api/field/uploads/${id}`, who, new Uint8Array(part), {
      'upload-offset': String(offset),
    });
    expect(r.status).toBe(200);
    offset = r.body.received;
  }
  const done = await http('POST', `/api/field/uploads/${id}/complete`, who);
  expect(done.status).toBe(200);
  expect(done.body.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  return done.body.sha256;
}

async function act(who: string, body: Record<string, unknown>) {
  return http('POST', '/api/field/actions', who, { key: randomUUID(), sentAt: Date.now(), ...body });
}

beforeAll(async () => {
  // Our own users, written before the platform first starts (sample users' passwords are not ours to know).
  const users: [string, Role, string | null][] = [
    ['fw-one', 'gridworker', GRID1],
    ['fw-two', 'gridworker', GRID2],
    ['fw-community', 'gridworker', COMMUNITY],
    ['fd-dispatch', 'dispatcher', null],
  ];
  dataDir = await dataDirWithUsers(users);
  p = await startPlatformProcess({ dataDir });
  tok.admin = await p.login();
  for (const [u] of users) tok[u] = await p.login(u, PW);
}, 180_000);

afterAll(async () => {
  await p?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('idempotent reports', () => {
  it('1,000 submissions of 40 reports with random disconnects and repeats: 40 cases, each photo once', async () => {
    const N = 40;
    const records: { key: string; sha: string }[] = [];
    for (let i = 0; i < N; i++) {
      const bytes = await photo(1000 + i, INSIDE);
      // Every tenth photo is uploaded twice (a retried upload under a new id): stored once by SHA-256.
      const sha = await upload('fw-one', bytes, 400, i % 3 === 0 ? 1 : -1);
      if (i % 10 === 0) expect(await upload('fw-one', bytes, 4000)).toBe(sha);
      records.push({ key: randomUUID(), sha });
    }
    const body = (r: (typeof records)[number], i: number) => ({
      key: r.key,
      kind: 'report',
      category: 'city_appearance.exposed_garbage',
      location: [INSIDE[0] + i * 1e-6, INSIDE[1]],
      accuracyM: 8,
      fixTime: Date.now() - 60_000,
      createdAt: Date.now() - 60_000,
      text: `暴露垃圾 ${i}`,
      photos: [r.sha],
    });
    // 1,000 sends: each record at least once, the rest at random; a fifth cut off at a random moment.
    const sends = [...records.keys(), ...Array.from({ length: 1000 - N }, () => Math.floor(Math.random() * N))];
    sends.sort(() => Math.random() - 0.5);
    const answers = new Map<string, Set<string>>();
    let cut = 0;
    const worker = async () => {
      for (let i = sends.pop(); i !== undefined; i = sends.pop()) {
        const r = records[i];
        const ac = new AbortController();
        const disconnect = Math.random() < 0.2;
        if (disconnect) setTimeout(() => ac.abort(), Math.random() * 30);
        try {
          const res = await fetch(`${p.url}/api/field/actions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tok['fw-one']}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ...body(r, i), sentAt: Date.now() }),
            signal: ac.signal,
          });
          const j = (await res.json()) as { case: { id: string } };
          expect([200, 201]).toContain(res.status);
          if (!answers.has(r.key)) answers.set(r.key, new Set());
          answers.get(r.key)!.add(j.case.id);
        } catch (e) {
          if ((e as Error).name !== 'AbortError') throw e;
          cut++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(cut).toBeGreaterThan(0);
    // What the outbox does after a disconnect: send again until answered.
    for (const [i, r] of records.entries())
      if (!answers.has(r.key)) {
        const res = await http('POST', '/api/field/actions', 'fw-one', body(r, i));
        answers.set(r.key, new Set([res.body.case.id]));
      }
    for (const ids of answers.values()) expect(ids.size).toBe(1);
    const list = await http('GET', '/api/cases?source=patrol&limit=500', 'admin');
    const mine = list.body.cases.filter((c: { title: string }) => c.title.startsWith('暴露垃圾 '));
    expect(mine).toHaveLength(N);
    expect(new Set(mine.map((c: { title: string }) => c.title)).size).toBe(N);
    // Each case: its photo once (the original and the public copy), its SHA-256 once in the trail.
    for (const c of mine.slice(0, 10)) {
      const ev = await http('GET', `/api/cases/${c.id}/evidence`, 'admin');
      expect(ev.body.evidence.map((e: { kind: string }) => e.kind).sort()).toEqual(['photo', 'photo_public']);
      const trail = await http('GET', `/api/cases/${c.id}/trail`, 'admin');
      const shas = trail.body.entries.flatMap((e: { data: { photos?: { sha256: string }[] } }) =>
        (e.data.photos ?? []).map((x) => x.sha256),
      );
      expect(shas).toHaveLength(1);
      expect(trail.body.verified).toBe(true);
      expect(c.source).toBe('patrol');
    }
    // The original keeps its GPS for handlers; the public copy has none.
    const ev = (await http('GET', `/api/cases/${mine[0].id}/evidence`, 'admin')).body.evidence;
    const orig = await http('GET', ev.find((e: { kind: string }) => e.kind === 'photo').url, 'admin');
    const pub = await http('GET', ev.find((e: { kind: string }) => e.kind === 'photo_public').url, 'admin');
    expect((await exifr.gps(orig.body))?.latitude).toBeCloseTo(INSIDE[1], 4);
    expect(await exifr.gps(pub.body).catch(() => undefined)).toBeUndefined();
  }, 600_000);

  it('a repeated key answers the first result; another user reusing it is refused', async () => {
    const key = randomUUID();
    const b = { key, kind: 'report', category: 'city_appearance.graffiti', location: INSIDE, text: 'repeat test' };
    const a1 = await http('POST', '/api/field/actions', 'fw-one', b);
    const a2 = await http('POST', '/api/field/actions', 'fw-one', b);
    expect(a1.status).toBe(201);
    expect(a2.status).toBe(201);
    expect(a2.headers.get('idempotent-replayed')).toBe('true');
    expect(a2.body.case.id).toBe(a1.body.case.id);
    const other = await http('POST', '/api/field/actions', 'fw-two', b);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
  });

  it('bad input is a 4xx with a stable code, and a report outside my grid is refused', async () => {
    const noKey = await http('POST', '/api/field/actions', 'fw-one', { kind: 'report' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe('validation_failed');
    const badLoc = await act('fw-one', {
      kind: 'report',
      category: 'city_appearance.graffiti',
      location: [INSIDE[1], INSIDE[0]],
    });
    expect(badLoc.status).toBe(400);
    const elsewhere = await act('fw-two', { kind: 'report', category: 'city_appearance.graffiti', location: INSIDE });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.code).toBe('outside_scope');
  });
});

describe('photo uploads', () => {
  it('a chunk past what arrived is refused with the offset to resume from; HEIC and non-images are refused', async () => {
    const id = randomUUID();
    await http('POST', '/api/field/uploads', 'fw-one', { id, size: 1000 });
    const gap = await http('PUT', `/api/field/uploads/${id}`, 'fw-one', new Uint8Array(100), {
      'upload-offset': '500',
    });
    expect(gap.status).toBe(409);
    expect(gap.body.error.details.received).toBe(0);
    const early = await http('POST', `/api/field/uploads/${id}/complete`, 'fw-one');
    expect(early.status).toBe(409);
    // Another user cannot see or feed my upload.
    expect((await http('GET', `/api/field/uploads/${id}`, 'fw-two')).status).toBe(404);

    const heic = Buffer.alloc(64);
    heic.writeUInt32BE(24, 0);
    heic.write('ftypheic', 4, 'latin1');
    heic.write('mif1heic', 16, 'latin1');
    const h = randomUUID();
    await http('POST', '/api/field/uploads', 'fw-one', { id: h, size: heic.length });
    await http('PUT', `/api/field/uploads/${h}`, 'fw-one', new Uint8Array(heic), { 'upload-offset': '0' });
    const refused = await http('POST', `/api/field/uploads/${h}/complete`, 'fw-one');
    expect(refused.status).toBe(415);
    expect(refused.body.error.code).toBe('unsupported_media');
    expect(refused.body.error.message).toMatch(/HEIC/);

    const big = await http('POST', '/api/field/uploads', 'fw-one', { id: randomUUID(), size: 50 * 1024 * 1024 });
    expect(big.status).toBe(413);
  });
});

describe('tasks, self-handled reports and on-site checks', () => {
  it('dispatched to me → claim → handle; a check away from the case is refused without an override', async () => {
    const before = await upload('fw-one', await photo(7, INSIDE));
    const made = await act('fw-one', {
      kind: 'report',
      category: 'city_appearance.overflowing_bin',
      location: INSIDE,
      text: '垃圾满溢 task',
      photos: [before],
    });
    expect(made.status).toBe(201);
    const c = made.body.case;
    // The dispatcher registers it and dispatches it to the worker.
    let r = await http('POST', `/api/cases/${c.id}/actions`, 'fd-dispatch', {
      action: 'register',
      version: c.version,
      category: c.category,
      priority: 3,
    });
    expect(r.status).toBe(200);
    r = await http('POST', `/api/cases/${c.id}/actions`, 'fd-dispatch', {
      action: 'dispatch',
      version: r.body.version,
      to: { kind: 'user', id: 'fw-one' },
    });
    expect(r.status).toBe(200);
    const tasks = await http('GET', '/api/field/tasks', 'fw-one');
    const task = tasks.body.dispatched.find((x: { id: string }) => x.id === c.id);
    expect(task.actions).toContain('claim');
    // Grid workers see only their own grid.
    const theirs = await http('GET', '/api/field/tasks', 'fw-two');
    expect(JSON.stringify(theirs.body)).not.toContain(c.id);
    const foreign = await act('fw-two', { kind: 'comment', caseId: c.id, version: task.version, note: 'x' });
    expect(foreign.status).toBe(403);

    const claimed = await act('fw-one', { kind: 'claim', caseId: c.id, version: task.version });
    expect(claimed.status).toBe(200);
    const after = await upload('fw-one', await photo(8, INSIDE));
    const handled = await act('fw-one', {
      kind: 'handle',
      caseId: c.id,
      version: claimed.body.case.version,
      result: '已清运',
      photos: [after],
    });
    expect(handled.status).toBe(200);
    expect(handled.body.case.state).toBe('handled');
    expect(handled.body.case.evidence).toHaveLength(1);

    // The community worker checks it: from 500 m away, refused.
    const checkTasks = await http('GET', '/api/field/tasks', 'fw-community');
    expect(checkTasks.body.checks.map((x: { id: string }) => x.id)).toContain(c.id);
    const farPhoto = await upload('fw-community', await photo(9));
    const far: [number, number] = [INSIDE[0] + 0.006, INSIDE[1]];
    const refused = await act('fw-community', {
      kind: 'verify',
      caseId: c.id,
      version: handled.body.case.version,
      pass: true,
      photos: [farPhoto],
      location: far,
      accuracyM: 10,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('too_far');
    expect(refused.body.error.details.distanceM).toBeGreaterThan(400);
    // A photo whose EXIF puts it on site passes; the trail records where, how far and from what.
    const onSite = await upload('fw-community', await photo(10, [INSIDE[0] + 0.0002, INSIDE[1]]));
    const ok = await act('fw-community', {
      kind: 'verify',
      caseId: c.id,
      version: handled.body.case.version,
      pass: true,
      photos: [onSite],
      location: far,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.case.state).toBe('closed');
    const trail = await http('GET', `/api/cases/${c.id}/trail`, 'admin');
    const v = trail.body.entries.find((e: { action: string }) => e.action === 'verify');
    expect(v.data.onSite).toMatchObject({ source: 'photo_exif', override: null, limitM: 50 });
    expect(v.data.onSite.distanceM).toBeLessThanOrEqual(50);
    expect(v.data.photos[0].sha256).toBe(onSite);
  });

  it('self-handled (自处理): handled with before/after photos at once; closed by a check with an override reason', async () => {
    const b = await upload('fw-one', await photo(21, INSIDE));
    const a = await upload('fw-one', await photo(22, INSIDE));
    const r = await act('fw-one', {
      kind: 'report',
      category: 'city_appearance.piled_materials',
      location: INSIDE,
      text: '乱堆物 自处理',
      photos: [b],
      selfHandled: { result: '已当场清理', after: [a] },
    });
    expect(r.status).toBe(201);
    // The machine lets nobody verify their own handling: it waits in `handled` for an independent check.
    expect(r.body.case.state).toBe('handled');
    expect(r.body.photos.map((x: { role: string }) => x.role)).toEqual(['before', 'after']);
    const own = await act('fw-one', {
      kind: 'verify',
      caseId: r.body.case.id,
      version: r.body.case.version,
      pass: true,
      override: 'x',
    });
    expect(own.status).toBe(403);
    const noWhere = await act('fw-community', {
      kind: 'verify',
      caseId: r.body.case.id,
      version: r.body.case.version,
      pass: true,
      photos: [await upload('fw-community', await photo(23))],
    });
    expect(noWhere.status).toBe(422);
    const over = await act('fw-community', {
      kind: 'verify',
      caseId: r.body.case.id,
      version: r.body.case.version,
      pass: true,
      override: '现场封闭，隔街核查',
    });
    expect(over.status).toBe(200);
    expect(over.body.case.state).toBe('closed');
    const trail = await http('GET', `/api/cases/${r.body.case.id}/trail`, 'admin');
    const v = trail.body.entries.find((e: { action: string }) => e.action === 'verify');
    expect(v.data.onSite.override).toBe('现场封闭，隔街核查');
    const handle = trail.body.entries.find((e: { action: string }) => e.action === 'handle');
    expect(handle.data.photos[0].sha256).toBe(a);
  });
});

describe('patrol tracks', () => {
  it('a walk round the grid: expected distance and coverage, clock flagged, stored once, on the patrol layer', async () => {
    // Round the grid just inside its boundary (so every fix lies in this grid), a fix every ~10 m, 8 s apart,
    // ending a minute ago.
    const inner = ring1.map(([lng, lat]): [number, number] => [
      INSIDE[0] + (lng - INSIDE[0]) * 0.8,
      INSIDE[1] + (lat - INSIDE[1]) * 0.8,
    ]);
    const pts: [number, number][] = [];
    for (let i = 1; i < inner.length; i++) {
      const [a, b] = [inner[i - 1], inner[i]];
      const steps = Math.max(1, Math.round(haversineM(a, b) / 10));
      for (let s = 0; s < steps; s++)
        pts.push([a[0] + ((b[0] - a[0]) * s) / steps, a[1] + ((b[1] - a[1]) * s) / steps]);
    }
    pts.push(inner[0]);
    const t0 = Date.now() - 60_000 - pts.length * 8000;
    const fixes: Fix[] = pts.map(([lng, lat], i) => ({ t: t0 + i * 8000, lng, lat, accuracyM: 6 }));
    let expectedM = 0;
    for (let i = 1; i < pts.length; i++) expectedM += haversineM(pts[i - 1], pts[i]);
    const expectedCoverage = coverageOf([fixes], polygonOf(GRID1));

    const report = await act('fw-one', { kind: 'report', category: 'city_appearance.graffiti', location: INSIDE });
    expect(report.status).toBe(201);
    const patrol = randomUUID();
    const half = Math.floor(fixes.length / 2);
    const b1 = {
      key: randomUUID(),
      kind: 'track',
      patrol,
      fixes: fixes.slice(0, half),
      sentAt: Date.now() - 5 * 60_000,
    };
    const r1 = await http('POST', '/api/field/actions', 'fw-one', b1);
    expect(r1.status).toBe(200);
    expect(r1.body.clockFlagged).toBe(true);
    const again = await http('POST', '/api/field/actions', 'fw-one', b1);
    expect(again.body).toEqual(r1.body);
    // The same fixes under a new key (an outbox that lost its answer and rebuilt the batch): stored once.
    const dup = await act('fw-one', { kind: 'track', patrol, fixes: fixes.slice(0, half) });
    expect(dup.body.accepted).toBe(0);
    const r2 = await act('fw-one', { kind: 'track', patrol, fixes: fixes.slice(half) });
    expect(r2.body.clockFlagged).toBe(false);

    const sum = await http('GET', '/api/field/patrols?worker=fw-one', 'admin');
    const w = sum.body.workers[0];
    expect(w.worker).toBe('fw-one');
    expect(w.grid).toBe(GRID1);
    expect(w.distanceM).toBeGreaterThan(expectedM * 0.98);
    expect(w.distanceM).toBeLessThan(expectedM * 1.02);
    expect(w.coverage).toBeCloseTo(expectedCoverage, 2);
    expect(w.coverage).toBeGreaterThan(0.3);
    expect(w.gaps).toBe(0);
    expect(w.reports).toBeGreaterThanOrEqual(1);
    expect(w.clockFlagged).toBeGreaterThan(0);
    // A worker sees only its own figures.
    const mineOnly = await http('GET', '/api/field/patrols', 'fw-two');
    expect(mineOnly.body.workers.map((x: { worker: string }) => x.worker)).toEqual(['fw-two']);

    const wall = await http('GET', '/api/patrols', 'admin');
    expect(wall.body.simulated).toBe(false);
    const trip = wall.body.trips.find((t: { worker: string }) => t.worker === 'fw-one');
    expect(trip).toMatchObject({ simulated: false, name: '测试 fw-one', grid: GRID1 });
    expect(trip.path.length).toBeGreaterThan(10);
    // Outside the viewer's scope: not on its wall.
    const other = await http('GET', '/api/patrols', 'fw-two');
    expect(other.body.trips.find((t: { worker: string }) => t.worker === 'fw-one')).toBeUndefined();
  });
});
