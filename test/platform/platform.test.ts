import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { seededDataDir, startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { runCli, spawnCli } from '../harness/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['bin/onegrid.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// Each test here starts whole processes (the platform cold and warm; the CLI on copies of the run's seeded
// data directory): generous limits, so a loaded 2-core machine is slow, not failing.
describe('one process: npm start', { timeout: 180_000 }, () => {
  let p: PlatformHandle | undefined;

  it('starts on embedded parts, serves grids and joins, and shuts down gracefully', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-plat-'));
    dirs.push(dataDir);
    p = await startPlatformProcess({ dataDir, template: false }); // a true first start: migrate and seed
    const health = await (await fetch(`${p.url}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, db: 'pglite', broker: 'embedded', grids: 1126 });
    // optional extensions: the decision and its reason (PGlite has none)
    expect(health).toMatchObject({ timescale: 'not applicable', postgis: 'not applicable' });
    const token = await p.login();
    const auth = { authorization: `Bearer ${token}` };
    const streets = await (await fetch(`${p.url}/api/grids?level=2`, { headers: auth })).json();
    expect(streets.type).toBe('FeatureCollection');
    expect(streets.features).toHaveLength(10);
    expect(Object.keys(streets.features[0].properties)).toEqual(
      expect.arrayContaining(['code', 'level', 'name', 'parent', 'kind']),
    );
    const base = await (
      await fetch(`${p.url}/api/grids?level=4&parent=${streets.features[0].properties.code}001`, { headers: auth })
    ).json();
    expect(base.features.length).toBeGreaterThan(0);
    // Join a point inside a base grid: its centroid-ish first vertex nudged inwards is enough with the sample.
    const join = await (await fetch(`${p.url}/api/grids/join?lng=117.15&lat=39.17`, { headers: auth })).json();
    expect(join).toHaveProperty('grid');
    if (join.grid) expect(join.grid.startsWith(join.community) && join.community.startsWith(join.street)).toBe(true);
    const outside = await (await fetch(`${p.url}/api/grids/join?lng=0&lat=0`, { headers: auth })).json();
    expect(outside).toEqual({ district: null, street: null, community: null, grid: null });
    const bad = await fetch(`${p.url}/api/grids/join?lng=500&lat=0`, { headers: auth });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('validation_failed');
    // The embedded broker answers on MQTT_PORT and refuses an unknown device.
    const c = mqtt.connect(`mqtt://127.0.0.1:${p.mqttPort}`, { username: 'nobody', password: 'x', reconnectPeriod: 0 });
    const refused = await new Promise<boolean>((resolve) => {
      c.once('connect', () => resolve(false));
      c.once('error', () => resolve(true));
      setTimeout(() => resolve(true), 5000);
    });
    c.end(true);
    expect(refused).toBe(true);
    expect(await p.stop('SIGTERM')).toBe(0);
    p = undefined;

    // Restart on the same data: no second seed, same admin.
    p = await startPlatformProcess({ dataDir });
    expect(p.output()).not.toMatch(/password \(shown once/);
    await p.login();
    expect(await p.stop('SIGINT')).toBe(0);
    p = undefined;
  });

  it('stops start-up on a bad setting with a message naming it', () => {
    const r = cli(['start', '--no-build'], { PORT: 'eighty', DATA_DIR: path.join(tmpdir(), 'never') });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/PORT/);
  });
});

describe('the CLI', { timeout: 180_000 }, () => {
  // On a copy of the run's seeded data directory: the first start's migrate and seed are the test above's.
  it('adds a device and a user, printing the secret once, as JSON on request', async () => {
    const dataDir = await seededDataDir('onegrid-cli-');
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, ADMIN_PASSWORD: 'cli-admin-pw', LOG_LEVEL: 'silent' };
    // The real command once (bin/onegrid.js in a new process); the rest through the same main() in process.
    const dev = spawnCli(
      ['device', 'add', '--id', 'smk-9001', '--kind', 'smoke', '--lng', '117.15', '--lat', '39.17', '--json'],
      env,
    );
    expect(dev.status, dev.stderr).toBe(0);
    const d = JSON.parse(dev.stdout);
    expect(d).toMatchObject({ id: 'smk-9001', kind: 'smoke', location: [117.15, 39.17] });
    expect(d.secret).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const dup = await runCli(
      ['device', 'add', '--id', 'smk-9001', '--kind', 'smoke', '--lng', '117.15', '--lat', '39.17'],
      env,
    );
    expect(dup.status).not.toBe(0);
    expect(dup.stderr).toMatch(/already exists/);
    const badKind = await runCli(['device', 'add', '--id', 'x1', '--kind', 'toaster', '--lng', '1', '--lat', '1'], env);
    expect(badKind.stderr).toMatch(/kind must be one of/);
    const user = await runCli(
      [
        'user',
        'add',
        '--username',
        'wang.li',
        '--role',
        'commander',
        '--scope',
        '120106001',
        '--level',
        'street',
        '--json',
      ],
      env,
    );
    expect(user.status, user.stderr).toBe(0);
    expect(JSON.parse(user.stdout)).toMatchObject({ username: 'wang.li', role: 'commander' });
    expect(JSON.parse(user.stdout).password).toMatch(/.{12,}/);
    const help = await runCli(['device', 'add', '--help'], env);
    expect(help.stdout).toMatch(/Kinds: camera/);
    expect((await runCli(['--help'], env)).stdout).toMatch(/grids import/);
  });

  it('exports the grids as GeoJSON, KML and Shapefile, refuses a broken set, and imports and publishes a set', async () => {
    const dataDir = await seededDataDir('onegrid-grids-');
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, ADMIN_PASSWORD: 'cli-admin-pw', LOG_LEVEL: 'silent' };
    const file = path.join(dataDir, 'all.geojson');
    expect(spawnCli(['grids', 'export', '--out', file], env).status).toBe(0); // the real command once
    const fc = JSON.parse(readFileSync(file, 'utf8'));
    expect(fc.features).toHaveLength(1126);
    const kml = await runCli(['grids', 'export', '--format', 'kml', '--level', '2'], env);
    expect(kml.stdout).toMatch(/<kml[^>]*>.*东风街道/s);
    expect(
      (await runCli(['grids', 'export', '--format', 'shp', '--out', path.join(dataDir, 'g.zip')], env)).status,
    ).toBe(0);
    // A base grid copied over its neighbour: refused with the report naming both codes.
    const broken = structuredClone(fc);
    const base = broken.features.filter((f: { properties: { level: number } }) => f.properties.level === 4);
    base[1].geometry = base[0].geometry;
    writeFileSync(path.join(dataDir, 'bad.geojson'), JSON.stringify(broken));
    const bad = await runCli(['grids', 'import', path.join(dataDir, 'bad.geojson')], env);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/topology_invalid/);
    expect(bad.stderr).toContain(base[0].properties.code);
    const ok = spawnCli(['grids', 'import', path.join(dataDir, 'g.zip'), '--publish', '--json'], env); // real, again
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      features: 1126,
      published: { from: 1, codesMapped: 992, devicesRejoined: 2810 },
    });
  });
});
