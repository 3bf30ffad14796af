// Wall benchmark: the situational-awareness wall in headless Chromium with the sample district's 992 base
// grids and 3,000 devices, in three phases of BENCH_WALL_SECONDS each: idle; redrawing every frame with no
// live data (maplibre `repaint`: what a frame costs this renderer — the floor under any "visible" latency);
// and under 500 live updates a second.
//
// Measured in the page, per phase: the longest main-thread task (PerformanceObserver 'longtask'), frame
// times p50/p95 (deltas between requestAnimationFrame callbacks), JS heap growth over the phase (CDP
// Performance.getMetrics JSHeapUsedSize, after a forced GC at both ends, and raw), and — under load — the
// latency of probe updates from publish to the wall's state (the data path) and to drawn (data + a frame).
// Outside the page: the frames maplibre drew in the phase and the CPU all Chromium processes used (in
// cores; on software WebGL the GPU process draws with the CPU, so an idle wall should use next to none).
//
// How updates are injected: the platform runs in this process (ingest/platform.ts startPlatform), and the
// bench publishes through its LiveHub (`services.live.publish`) — the same bus → hub → WebSocket /live path
// the case service and ingest use, so the browser sees exactly what a real update looks like. 500 messages
// a second are `{"type":"device", id, online, lastSeen}` status flips of random devices; every 250 ms one of
// them is a flip of a dedicated probe device. "Visible" = the wall's state holds the probe's new status AND
// deck.gl has drawn a frame from that state (`__wallMap.rendered()`, set after the draw), checked every 10 ms
// in the page; a probe overtaken by a newer one counts as visible when the newer one is.
//
//   node --import tsx bench/wall.ts        (or: npm run bench -- wall)
//   BENCH_WALL_SECONDS=60 (per phase), BENCH_WALL_HANDLER=path/to/build/handler.js (default: build/)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import type { Page, CDPSession } from 'playwright-core';
import { loadConfig } from '../ingest/config.ts';
import { startPlatform, type Platform } from '../ingest/platform.ts';
import { launchChromium } from '../test/harness/browser.ts';

const PASSWORD = 'bench-admin-pw-1';
const RATE = 500; // live updates per second
const PROBE_EVERY_MS = 250;
const TARGET_DEVICES = 3000;

interface PhaseResult {
  longestTaskMs: number;
  longTasksOver100ms: number;
  frameP95Ms: number;
  frameP50Ms: number;
  frames: number;
  heapGrowthMB: number;
  heapGrowthRawMB: number;
  heapEndMB: number;
  messagesReceived: number;
  /** Frames maplibre drew (`__wallMap.renders()`), not animation-frame callbacks. */
  mapRenders: number;
  /** CPU of Chromium's processes (GPU process, renderer, browser) over the phase, in cores (CPU s / s). */
  chromiumCores: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
};

async function heapMB(cdp: CDPSession, gc: boolean): Promise<number> {
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1024 / 1024;
}

// Page-side recorder (a string: the bench runs under tsx, whose helpers must not leak into the page).
const RECORDER = `(() => {
  const r = (window.__bench = { tasks: [], frames: [], seen: [], on: false });
  new PerformanceObserver((l) => { if (r.on) for (const e of l.getEntries()) r.tasks.push(e.duration); }).observe({ type: 'longtask', buffered: false });
  let last = performance.now();
  const f = (t) => { if (r.on) r.frames.push(t - last); last = t; requestAnimationFrame(f); };
  requestAnimationFrame(f);
})()`;

/** CPU seconds used so far by every Chromium process on this machine (ps TIME, whole seconds). */
function chromiumCpuS(): number {
  const out = execFileSync('ps', ['-eo', 'times=,args=', '--cols', '300']).toString();
  let s = 0;
  for (const line of out.split('\n')) if (/chromium/.test(line)) s += Number.parseInt(line, 10) || 0;
  return s;
}

async function phase(page: Page, cdp: CDPSession, seconds: number, during?: () => Promise<void>): Promise<PhaseResult> {
  const cpu0 = chromiumCpuS();
  const t0 = Date.now();
  const renders0 = (await page.evaluate(`window.__wallMap.renders()`)) as number;
  const h0raw = await heapMB(cdp, false);
  const h0 = await heapMB(cdp, true);
  const recv0 = (await page.evaluate(`window.__wall.live().received`)) as number;
  await page.evaluate(`(window.__bench.tasks = [], window.__bench.frames = [], window.__bench.on = true)`);
  if (during) await during();
  else await sleep(seconds * 1000);
  const res = (await page.evaluate(
    `(window.__bench.on = false, { tasks: window.__bench.tasks, frames: window.__bench.frames, recv: window.__wall.live().received })`,
  )) as { tasks: number[]; frames: number[]; recv: number };
  const renders1 = (await page.evaluate(`window.__wallMap.renders()`)) as number;
  const cores = (chromiumCpuS() - cpu0) / ((Date.now() - t0) / 1000);
  const h1raw = await heapMB(cdp, false);
  const h1 = await heapMB(cdp, true);
  return {
    mapRenders: renders1 - renders0,
    chromiumCores: Math.round(cores * 100) / 100,
    longestTaskMs: Math.round(Math.max(0, ...res.tasks)),
    longTasksOver100ms: res.tasks.filter((t) => t > 100).length,
    frameP95Ms: Math.round(pct(res.frames, 0.95) * 10) / 10,
    frameP50Ms: Math.round(pct(res.frames, 0.5) * 10) / 10,
    frames: res.frames.length,
    heapGrowthMB: Math.round((h1 - h0) * 100) / 100,
    heapGrowthRawMB: Math.round((h1raw - h0raw) * 100) / 100,
    heapEndMB: Math.round(h1 * 10) / 10,
    messagesReceived: res.recv - recv0,
  };
}

export async function run(): Promise<{
  name: 'wall';
  machine: string;
  metrics: Record<string, number>;
  ratios: Record<string, number>;
}> {
  const seconds = Number(process.env.BENCH_WALL_SECONDS ?? 60);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-bench-wall-'));
  let platform: Platform | null = null;
  const browser = await launchChromium();
  try {
    const cfg = loadConfig({
      ...process.env,
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: PASSWORD,
      DEMO: '0', // no simulated traffic: the load is exactly what the bench sends
      LOG_LEVEL: 'warn',
    });
    platform = await startPlatform(
      cfg,
      process.env.BENCH_WALL_HANDLER ? { handlerPath: process.env.BENCH_WALL_HANDLER } : {},
    );
    const base = `http://127.0.0.1:${platform.httpPort}`;
    const login = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // Top the sample fleet up to 3,000 devices with a location.
    type Dev = { id: string; grid: string | null; location: [number, number] | null };
    let devices = (
      (await (await fetch(`${base}/api/devices?limit=10000`, { headers: auth })).json()) as { devices: Dev[] }
    ).devices.filter((d) => d.location);
    const grids = (await (await fetch(`${base}/api/grids?level=4`, { headers: auth })).json()) as {
      features: { geometry: { coordinates: number[][][] } }[];
    };
    for (let i = devices.length, k = 0; i < TARGET_DEVICES; i++, k++) {
      const ring = grids.features[k % grids.features.length].geometry.coordinates[0];
      const loc = [(ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2];
      await fetch(`${base}/api/devices`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ id: `bench-${k}`, kind: 'sensor', location: loc }),
      });
    }
    devices = (
      (await (await fetch(`${base}/api/devices?limit=10000`, { headers: auth })).json()) as { devices: Dev[] }
    ).devices.filter((d) => d.location);

    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.addInitScript(RECORDER);
    await page.goto(`${base}/login`);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    const tReady = Date.now();
    await page.waitForSelector('.map[data-status=ready]', { timeout: 120_000 });
    const readyMs = Date.now() - tReady;
    const render = (await page.evaluate(`document.querySelector('.map').dataset.render`)) as string;
    const shown = Number(await page.textContent('[data-testid=grid-count]'));
    await sleep(5000); // shaders compiled, first fetches done
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');

    // Baselines: the same page, idle; then redrawing every frame with no live data (what a frame costs this
    // renderer, which bounds how soon anything can be drawn).
    const idle = await phase(page, cdp, seconds);
    await page.evaluate(`window.__wallMap.repaint(true)`);
    const redraw = await phase(page, cdp, seconds);
    await page.evaluate(`window.__wallMap.repaint(false)`);

    // Load: 500 updates a second through the hub, probes every 250 ms.
    const live = platform.services.live;
    const probe = devices[0];
    const others = devices.slice(1);
    const sent: number[] = [];
    const latencies: number[] = [];
    let probeOnline = (await page.evaluate(
      `window.__wall.device(${JSON.stringify(probe.id)})?.online ?? false`,
    )) as boolean;
    // Each probe carries its publish time as lastSeen. The page notes each new one it finds in the wall's
    // state (with the state's version then) and when deck.gl has drawn that version (`__wallMap.rendered()`,
    // set after a frame is drawn): that is when it is visible.
    await page.evaluate(`(() => {
      window.__probe = [];
      const pending = [];
      let last = null;
      setInterval(() => {
        const d = window.__wall.device(${JSON.stringify(probe.id)});
        const sentAt = d && d.lastSeen ? Date.parse(d.lastSeen) : null;
        if (sentAt !== null && sentAt !== last) { last = sentAt; pending.push({ sentAt, inState: Date.now(), version: window.__wall.versions().devices }); }
        const drawn = window.__wallMap.rendered().devices;
        while (pending.length && drawn >= pending[0].version) { const p = pending.shift(); window.__probe.push([p.sentAt, p.inState, Date.now()]); }
      }, 10);
    })()`);
    const load = await phase(page, cdp, seconds, async () => {
      const end = Date.now() + seconds * 1000;
      let nextProbe = Date.now() + PROBE_EVERY_MS;
      let n = 0;
      const t0 = Date.now();
      while (Date.now() < end) {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
        for (; n < due; n++) {
          const d = others[(n * 7919) % others.length];
          live.publish({ type: 'device', id: d.id, online: n % 3 !== 0, lastSeen: Date.now() }, { grid: d.grid });
        }
        if (Date.now() >= nextProbe) {
          probeOnline = !probeOnline;
          sent.push(Date.now());
          live.publish(
            { type: 'device', id: probe.id, online: probeOnline, lastSeen: Date.now() },
            { grid: probe.grid },
          );
          nextProbe += PROBE_EVERY_MS;
        }
        await sleep(5);
      }
      await sleep(1500); // let the last probes land
    });
    const seen = (await page.evaluate(`window.__probe`)) as [number, number, number][];
    // A probe overtaken by the next one before the page looked (two in one batch) became visible when the
    // newer one did: every probe sent gets a latency, none is dropped from the figure.
    let lost = 0;
    const inState: number[] = [];
    for (const t of sent) {
      const hit = seen.find(([sentAt]) => sentAt >= t);
      if (hit) {
        inState.push(hit[1] - t);
        latencies.push(hit[2] - t);
      } else lost++;
    }
    const coalesced = sent.length - seen.length;
    const metrics: Record<string, number> = {
      grids: shown,
      devices: devices.length,
      seconds,
      updatesPerSecond: RATE,
      readyMs,
      idleLongestTaskMs: idle.longestTaskMs,
      idleFrameP50Ms: idle.frameP50Ms,
      idleFrameP95Ms: idle.frameP95Ms,
      idleFrames: idle.frames,
      idleHeapGrowthMB: idle.heapGrowthMB,
      idleMapRenders: idle.mapRenders,
      idleChromiumCores: idle.chromiumCores,
      redrawMapRenders: redraw.mapRenders,
      redrawChromiumCores: redraw.chromiumCores,
      loadMapRenders: load.mapRenders,
      loadChromiumCores: load.chromiumCores,
      redrawLongestTaskMs: redraw.longestTaskMs,
      redrawFrameP50Ms: redraw.frameP50Ms,
      redrawFrameP95Ms: redraw.frameP95Ms,
      redrawFrames: redraw.frames,
      loadLongestTaskMs: load.longestTaskMs,
      loadLongTasksOver100ms: load.longTasksOver100ms,
      loadFrameP95Ms: load.frameP95Ms,
      loadFrameP50Ms: load.frameP50Ms,
      loadFrames: load.frames,
      loadHeapGrowthMB: load.heapGrowthMB,
      loadHeapGrowthRawMB: load.heapGrowthRawMB,
      loadHeapEndMB: load.heapEndMB,
      loadMessagesReceived: load.messagesReceived,
      inStateLatencyP50Ms: pct(inState, 0.5),
      inStateLatencyP95Ms: pct(inState, 0.95),
      visibleLatencyP50Ms: pct(latencies, 0.5),
      visibleLatencyP95Ms: pct(latencies, 0.95),
      visibleLatencyMaxMs: Math.max(0, ...latencies),
      probesSent: sent.length,
      probesCoalesced: coalesced,
      probesNeverVisible: lost,
    };
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : NaN);
    const ratios: Record<string, number> = {
      frameP95LoadOverIdle: ratio(load.frameP95Ms, idle.frameP95Ms),
      frameP50LoadOverRedraw: ratio(load.frameP50Ms, redraw.frameP50Ms),
      frameP95LoadOverRedraw: ratio(load.frameP95Ms, redraw.frameP95Ms),
      longestTaskLoadOverIdle: ratio(load.longestTaskMs, idle.longestTaskMs),
      heapGrowthLoadMinusIdleMB: Math.round((load.heapGrowthMB - idle.heapGrowthMB) * 100) / 100,
    };
    const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Chromium ${browser.version()} (${render === 'lite' ? 'software WebGL (SwiftShader), lite rendering' : 'hardware WebGL'})`;
    return { name: 'wall', machine, metrics, ratios };
  } finally {
    await browser.close().catch(() => {});
    await platform?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(r: Awaited<ReturnType<typeof run>>): string {
  const m = r.metrics;
  const rows: string[][] = [
    [
      'longest main-thread task (ms)',
      String(m.idleLongestTaskMs),
      String(m.redrawLongestTaskMs),
      String(m.loadLongestTaskMs),
      '≤ 100',
    ],
    [
      'frame time p50/p95 (ms)',
      `${m.idleFrameP50Ms}/${m.idleFrameP95Ms}`,
      `${m.redrawFrameP50Ms}/${m.redrawFrameP95Ms}`,
      `${m.loadFrameP50Ms}/${m.loadFrameP95Ms}`,
      '',
    ],
    ['frames in the phase', String(m.idleFrames), String(m.redrawFrames), String(m.loadFrames), ''],
    ['map frames drawn', String(m.idleMapRenders), String(m.redrawMapRenders), String(m.loadMapRenders), ''],
    [
      'Chromium CPU (cores)',
      String(m.idleChromiumCores),
      String(m.redrawChromiumCores),
      String(m.loadChromiumCores),
      '',
    ],
    ['JS heap growth after GC (MB)', String(m.idleHeapGrowthMB), '', String(m.loadHeapGrowthMB), '< 20'],
    ['publish → in the wall state p50/p95 (ms)', '', '', `${m.inStateLatencyP50Ms}/${m.inStateLatencyP95Ms}`, ''],
    ['publish → drawn p50/p95 (ms)', '', '', `${m.visibleLatencyP50Ms}/${m.visibleLatencyP95Ms}`, '≤ 250 (p95)'],
    ['live messages received', '', '', String(m.loadMessagesReceived), `${m.updatesPerSecond}/s × ${m.seconds} s`],
  ];
  const w = [42, 12, 12, 12, 16];
  const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i])).join(' ');
  return [
    `wall — ${r.machine}`,
    `${m.grids} grids, ${m.devices} devices, ready in ${m.readyMs} ms`,
    line(['', 'idle', 'redraw', 'load', 'target']),
    ...rows.map(line),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run()
    .then((r) => {
      const dir = path.resolve(import.meta.dirname, 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'wall.json'), JSON.stringify(r, null, 2) + '\n');
      console.log(table(r));
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
