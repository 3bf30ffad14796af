/**
 * Finding 3 (read scope everywhere): every route of the OpenAPI document × every scoped role. Each GET is
 * called plainly and with blank filters (`?grid=`, `?grid=%20`, `?scope=`); every row that comes back —
 * a case, a device, a grid feature, a patrol trip, a heatmap point — must lie inside the caller's scope
 * (an oracle written here, independent of ingest/auth/scope.ts), and path ids outside the scope answer
 * 403/404 for every method. A new route in the document is covered without anyone remembering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './helpers.ts';

let f: Fixture;
type Dev = { id: string; kind: string; grid: string | null; location: [number, number] | null };
let devices: Dev[] = [];
let caseA: any; // street 001, dispatched to urban_management, with a linked camera
let caseB: any; // street 002, reported
const heatPoint = new Map<string, Dev>(); // "lng,lat" → the device whose event sits there
const DEPT = 'urban_management';

interface Who {
  name: string;
  token: string;
  grid: string | null;
  dept: string | null;
}
const users: Who[] = [];

const inGrid = (w: Who, code: string | null | undefined) => !!code && !!w.grid && code.startsWith(w.grid);
const linked = () => new Set<string>(caseA.linkedCameras);
function deviceOk(w: Who, id: string): boolean {
  const d = devices.find((x) => x.id === id);
  if (!d) return false;
  if (w.dept) return linked().has(id) && (!w.grid || inGrid(w, d.grid));
  return inGrid(w, d.grid);
}
function caseOk(w: Who, c: any): boolean {
  if (w.grid && !inGrid(w, c.grid?.grid)) return false;
  if (w.dept)
    return (
      (c.assignee?.kind === 'department' && c.assignee.id === w.dept) ||
      (c.whistles ?? []).some((x: any) => x.department === w.dept)
    );
  return true;
}
function gridFeatureOk(w: Who, code: string): boolean {
  if (w.dept) return (caseA.grid.grid as string).startsWith(code);
  return code.startsWith(w.grid!) || w.grid!.startsWith(code);
}

/** Every row in a response that belongs to a scope-bearing kind, checked; returns the count checked. */
function checkRows(w: Who, route: string, body: any): number {
  let n = 0;
  const bad: string[] = [];
  const walk = (v: any) => {
    if (Array.isArray(v)) {
      if (route === '/api/events/heat' && v.length === 3 && v.every((x) => typeof x === 'number')) {
        n++;
        const d = heatPoint.get(`${v[0]},${v[1]}`);
        if (!d || !deviceOk(w, d.id)) bad.push(`heat point ${v[0]},${v[1]} (${d?.id})`);
        return;
      }
      v.forEach(walk);
      return;
    }
    if (!v || typeof v !== 'object') return;
    if (typeof v.code === 'string' && typeof v.state === 'string' && v.grid && typeof v.grid === 'object') {
      n++;
      if (!caseOk(w, v)) bad.push(`case ${v.code}`);
    } else if (typeof v.id === 'string' && typeof v.kind === 'string' && 'hasVideo' in v) {
      n++;
      if (!deviceOk(w, v.id)) bad.push(`device ${v.id}`);
    } else if (v.type === 'Feature' && typeof v.properties?.code === 'string') {
      n++;
      if (!gridFeatureOk(w, v.properties.code)) bad.push(`grid ${v.properties.code}`);
      return;
    } else if (typeof v.worker === 'string' && typeof v.grid === 'string') {
      n++;
      if (w.dept || !inGrid(w, v.grid)) bad.push(`patrol ${v.worker} in ${v.grid}`);
    } else if (typeof v.clientId === 'string' && 'reason' in v) {
      n++;
      if (!deviceOk(w, v.clientId)) bad.push(`reject of ${v.clientId}`);
    }
    for (const x of Object.values(v)) walk(x);
  };
  walk(body);
  expect(bad, `${w.name} GET ${route}`).toEqual([]);
  return n;
}

beforeAll(async () => {
  f = await startFixture();
  const all = await f.http('GET', '/api/devices', f.admin);
  devices = all.body.devices;
  const cams = devices.filter((d) => d.kind === 'camera' && d.location && d.grid);
  const cam1 = cams.find((d) => d.grid!.startsWith('120106001'))!;
  const cam2 = cams.find((d) => d.grid!.startsWith('120106002'))!;
  const make = async (cam: Dev, title: string) => {
    const r = await f.http('POST', '/api/cases', f.admin, {
      title,
      category: 'street_order.street_vending',
      location: cam.location,
      source: 'hotline',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  caseA = await make(cam1, 'scope A');
  caseB = await make(cam2, 'scope B');
  let r = await f.http('POST', `/api/cases/${caseA.id}/actions`, f.admin, {
    action: 'register',
    category: caseA.category,
    priority: 3,
    version: caseA.version,
  });
  expect(r.status).toBe(200);
  r = await f.http('POST', `/api/cases/${caseA.id}/actions`, f.admin, {
    action: 'dispatch',
    to: { kind: 'department', id: DEPT },
    version: r.body.version,
  });
  expect(r.status).toBe(200);
  caseA = r.body;
  expect(caseA.linkedCameras.length).toBeGreaterThan(0);
  // Events of devices across the district, each at its own point (to trace heatmap points back).
  const sample = [
    ...devices.filter((d) => d.grid && d.kind !== 'gateway').slice(0, 40),
    ...devices.filter((d) => caseA.linkedCameras.includes(d.id)),
  ];
  let i = 0;
  for (const d of sample) {
    const lng = 117 + ++i / 1000;
    const lat = 39.5;
    heatPoint.set(`${lng},${lat}`, d);
    await f.db.query(
      `INSERT INTO events (device_id, seq, ts, type, severity, lng, lat, grid) VALUES ($1, $2, now(), 'test', 'minor', $3, $4, $5)`,
      [d.id, i, lng, lat, d.grid],
    );
  }
  const grids = await f.http('GET', '/api/grids?level=4&parent=120106001001', f.admin);
  const base = grids.body.features[0].properties.code as string;
  const mk = async (name: string, role: any, grid: string | null, dept: string | null) =>
    users.push({
      name,
      grid,
      dept,
      token: await f.user({ username: name, role, scopeGrid: grid, scopeDepartment: dept }),
    });
  await mk('t-street', 'commander', '120106001', null);
  await mk('t-community', 'commander', '120106002001', null);
  await mk('t-gridworker', 'gridworker', base, null);
  await mk('t-department', 'department', null, DEPT);
  await mk('t-viewer', 'viewer', '120106003', null);
}, 300_000);

afterAll(async () => {
  await f?.stop();
});

describe('read scope on every route of the OpenAPI document', () => {
  it('returns no row outside the scope, for any role, with or without blank filters', async () => {
    const doc = (await f.http('GET', '/api/openapi.json')).body;
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/'));
    expect(paths.length).toBeGreaterThan(15);
    let checked = 0;
    for (const w of users)
      for (const path of paths) {
        if (!doc.paths[path].get || path.includes('{')) continue;
        for (const q of ['', '?grid=', '?grid=%20', '?scope=&parent=&kind=']) {
          const r = await f.http('GET', path + q, w.token);
          expect(r.status, `${w.name} GET ${path}${q}`).toBeLessThan(500);
          if (r.status < 300) checked += checkRows(w, path, r.body);
        }
      }
    expect(checked).toBeGreaterThan(50); // not vacuous
  });

  it('answers ids outside the scope with 403/404 on every method, and ids inside with data', async () => {
    const doc = (await f.http('GET', '/api/openapi.json')).body;
    for (const w of users) {
      const outDevice = devices.find((d) => d.kind === 'camera' && d.grid && !deviceOk(w, d.id))!;
      const inDevice = devices.find((d) => d.kind === 'camera' && deviceOk(w, d.id));
      const outCase = [caseA, caseB].find((c) => !caseOk(w, c));
      for (const [path, ops] of Object.entries<any>(doc.paths)) {
        if (!path.includes('{id}') || !path.startsWith('/api/') || path.includes('open311')) continue;
        const isCase = path.startsWith('/api/cases/');
        const id = isCase ? outCase?.id : outDevice.id;
        if (!id) continue;
        const url = path.replace('{id}', encodeURIComponent(id)).replace('{eid}', '1');
        for (const method of Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
          const r = await f.http(method.toUpperCase(), url, w.token, method === 'get' ? undefined : {});
          expect([400, 403, 404, 405, 413, 422], `${w.name} ${method} ${url} → ${r.status}`).toContain(r.status);
        }
      }
      if (inDevice) expect((await f.http('GET', `/api/devices/${inDevice.id}`, w.token)).status).toBe(200);
    }
    // The department handler sees its case's linked camera, and no other device.
    const dept = users.find((u) => u.dept)!;
    const seen = (await f.http('GET', '/api/devices', dept.token)).body.devices.map((d: Dev) => d.id).sort();
    expect(seen).toEqual([...linked()].sort());
    const stats = (await f.http('GET', '/api/stats', dept.token)).body;
    expect(stats.devices.total).toBe(devices.filter((d) => linked().has(d.id) && d.kind !== 'gateway').length);
  });

  it('treats a blank grid filter as absent, never as the whole district', async () => {
    const street = users.find((u) => u.name === 't-street')!;
    for (const q of ['?grid=', '?grid=%20%20', '?grid=%09']) {
      const r = await f.http('GET', `/api/devices${q}`, street.token);
      expect(r.status).toBe(200);
      expect(r.body.devices.length).toBeGreaterThan(0);
      expect(r.body.devices.every((d: Dev) => d.grid?.startsWith('120106001'))).toBe(true);
    }
    expect((await f.http('GET', '/api/devices?grid=abc', street.token)).status).toBe(400);
  });
});
