/**
 * First start: the sample district (grids version 1, published), departments, the sample fleet (marked
 * simulated), and the admin user; in demo mode (DEMO=1) with the sample district, the sample users.
 * Idempotent: `kv` flags record what ran.
 *
 * Passwords (issue 11, finding 1): no two accounts share one. The admin gets ADMIN_PASSWORD or a generated
 * one (then to be changed at first sign-in); each sample user gets its own random password, printed once,
 * never ADMIN_PASSWORD. Sample users' usernames are public (geo-data/sample/users.json), so they exist only
 * beside the synthetic sample district in demo mode, never in a real deployment (DEMO=0).
 */
import { createHmac } from 'node:crypto';
import { loadDepartments, loadSampleFleet, loadSampleGrids, loadSampleUsers } from '../geo-data/index.ts';
import type { Db } from './store/db.ts';
import { createGridVersion, insertGrids } from './store/grids.ts';
import { insertDevices, type DeviceInsert } from './store/devices.ts';
import { getKv, getUser, insertUser, setKv, upsertDepartments } from './store/users.ts';
import { hashSecret, newSecret } from './auth/secrets.ts';

export interface SeedResult {
  seeded: boolean;
  adminPassword: string | null; // set only when generated now
  /** Sample users created now, each with its own generated password (shown once); empty otherwise. */
  samplePasswords: { username: string; password: string }[];
}

/** The simulator's credential for a simulated gateway: HMAC of a per-installation key (kv `demo_key`). */
export function demoSecret(demoKey: string, gatewayId: string): string {
  return createHmac('sha256', demoKey).update(gatewayId).digest('base64url');
}

/** Simulated devices that have no gateway of their own report through one simulated gateway per street. */
export function simGatewayFor(gridCode: string): string {
  return `sim-gw-${gridCode.slice(0, 9)}`;
}

/**
 * `sample: false` (the first `grids import` into an empty data directory): the district being imported
 * replaces the sample, so neither the sample grids nor its devices and users are loaded, now or later.
 */
export async function seed(
  db: Db,
  opts: { adminPassword: string | null; sample?: boolean; demo?: boolean },
): Promise<SeedResult> {
  const out: SeedResult = { seeded: false, adminPassword: null, samplePasswords: [] };
  await seedDistrict(db, opts, out);
  if (opts.demo) out.samplePasswords = await seedSampleUsers(db);
  return out;
}

/**
 * The sample users (geo-data/sample/users.json), once, only when the sample district is loaded; each with
 * its own random password. Returns the passwords of the users created now.
 */
async function seedSampleUsers(db: Db): Promise<{ username: string; password: string }[]> {
  const loaded = await getKv<{ skipped?: string }>(db, 'sample_loaded');
  if (!loaded || loaded.skipped || (await getKv(db, 'sample_users'))) return [];
  const created: { username: string; password: string }[] = [];
  const users = loadSampleUsers();
  const hashed = await Promise.all(
    users.map(async (u) => {
      const password = newSecret(12);
      return { u, password, hash: await hashSecret(password) };
    }),
  );
  await db.tx(async (q) => {
    for (const { u, password, hash } of hashed) {
      if (await getUser(q, u.username)) continue;
      await insertUser(q, {
        username: u.username,
        name: u.name,
        role: u.role,
        passwordHash: hash,
        scopeGrid: u.scope.grid,
        scopeDepartment: u.scope.department,
        level: u.level ?? null,
      });
      created.push({ username: u.username, password });
    }
    await setKv(q, 'sample_users', { at: new Date().toISOString(), users: created.map((c) => c.username) });
  });
  return created;
}

async function seedDistrict(
  db: Db,
  opts: { adminPassword: string | null; sample?: boolean },
  out: SeedResult,
): Promise<void> {
  if (!(await getUser(db, 'admin'))) {
    const pw = opts.adminPassword ?? newSecret(12);
    if (!opts.adminPassword) out.adminPassword = pw;
    await insertUser(db, {
      username: 'admin',
      name: '系统管理员',
      role: 'admin',
      passwordHash: await hashSecret(pw),
      scopeGrid: null,
      scopeDepartment: null,
      level: null,
      // A generated password travelled through a console: replaced at first sign-in.
      mustChangePassword: !opts.adminPassword,
    });
  }
  if (await getKv(db, 'sample_loaded')) return;
  if (opts.sample === false) {
    await upsertDepartments(db, loadDepartments());
    await setKv(db, 'sample_loaded', { at: new Date().toISOString(), skipped: 'first use was a grid import' });
    return;
  }

  const grids = loadSampleGrids();
  const fleet = loadSampleFleet();
  const departments = loadDepartments();
  const demoKey = newSecret(32);

  // Simulated gateways: the fleet's own gateways plus one per street for devices without one.
  const gateways = new Set<string>();
  const devices: DeviceInsert[] = [];
  for (const d of fleet) {
    const gateway = d.kind === 'gateway' ? null : (d.gateway ?? simGatewayFor(d.grid));
    if (d.kind === 'gateway') gateways.add(d.id);
    else if (gateway) gateways.add(gateway);
    devices.push({
      id: d.id,
      kind: d.kind,
      name: d.name,
      source: d.source ?? null,
      gateway,
      rtsp: d.rtsp ?? null,
      intervalS: d.intervalS,
      location: d.location,
      grid: d.grid,
      secretHash: null,
      simulated: true,
    });
  }
  const fleetIds = new Set(fleet.map((d) => d.id));
  const gatewayHashes = new Map<string, string>();
  await Promise.all([...gateways].map(async (g) => gatewayHashes.set(g, await hashSecret(demoSecret(demoKey, g)))));
  for (const g of gateways) {
    if (fleetIds.has(g)) continue;
    const anyChild = devices.find((d) => d.gateway === g)!;
    devices.push({
      id: g,
      kind: 'gateway',
      name: `模拟网关 ${g.slice(7)}`,
      location: anyChild.location,
      grid: anyChild.grid,
      secretHash: null,
      intervalS: 60,
      simulated: true,
    });
  }
  for (const d of devices) if (d.kind === 'gateway') d.secretHash = gatewayHashes.get(d.id) ?? null;

  await db.tx(async (q) => {
    await upsertDepartments(q, departments);
    const v = await createGridVersion(q, 'sample district 120106 (synthetic)', 'published', 'seed');
    await insertGrids(
      q,
      v,
      grids.features.map((f) => ({
        code: f.properties.code,
        level: f.properties.level,
        name: f.properties.name,
        parent: f.properties.parent,
        kind: f.properties.kind,
        households: f.properties.households,
        props: { sample: true },
        geometry: f.geometry,
      })),
    );
    await insertDevices(q, devices);
    await setKv(q, 'demo_key', demoKey);
    await setKv(q, 'sample_loaded', { at: new Date().toISOString() });
  });
  out.seeded = true;
}
