/**
 * One process: database (PGlite or PostgreSQL), migrations, sample district on first start, broker
 * (embedded aedes or an external one), ingest, HTTP (SvelteKit handler + WebSocket upgrades) and, with
 * DEMO=1, the simulated fleet. Graceful shutdown stops intake first, flushes, then closes the database.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { openDb, type Db } from './store/db.ts';
import { migrate } from './store/migrate.ts';
import { seed, type SeedResult } from './seed.ts';
import { GridService } from './grids/service.ts';
import { Sessions } from './auth/sessions.ts';
import { Accounts } from './auth/accounts.ts';
import { pruneAudit } from './auth/audit.ts';
import { scopeOf, deviceVisible } from './auth/scope.ts';
import {
  authenticateUpgrade,
  originAllowed,
  refuseUpgrade,
  SocketGuard,
  TicketStore,
  MAX_VIDEO_SOCKETS_PER_USER,
  type UpgradeAuthDeps,
} from './auth/sockets.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded.ts';
import { serviceBrokerUrl } from './broker/auth.ts';
import { serviceClientId } from './consumer/external.ts';
import { createIngest } from './consumer/index.ts';
import { registerServices, type Services } from './services.ts';
import { startSimulator, type Simulator } from './demo/simulator.ts';
import { getKv } from './store/users.ts';
import { localBus, mqttBus } from './live/bus.ts';
import { LiveHub } from './live/hub.ts';
import { KpiFeed } from './live/kpi.ts';
import { createVideoRelay } from './video/index.ts';
import { attachVideoLinkage } from './cases/video-linkage.ts';
import { getDevice } from './store/devices.ts';
import { CaseService } from './cases/service.ts';
import { RulesRunner } from './cases/rules-runner.ts';
import { CaseScheduler } from './cases/scheduler.ts';
import { registerCaseMetrics } from './cases/metrics.ts';
import { AlarmIntake, CaseEvidenceFetcher, EventTypeTable } from './intake/index.ts';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

export interface Platform {
  services: Services;
  http: Server;
  httpPort: number;
  broker: EmbeddedBroker | null;
  seedResult: SeedResult;
  /** Register a WebSocket upgrade route (returns true when it took the request). */
  onUpgrade(h: UpgradeHandler): void;
  stop(): Promise<void>;
}

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const BUILD_HANDLER = path.join(ROOT, 'build', 'handler.js');

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;

export async function startPlatform(
  config: Config,
  opts: { log?: Logger; handlerPath?: string } = {},
): Promise<Platform> {
  const log = opts.log ?? createLogger(config.logLevel);
  const startedAt = Date.now();
  const db: Db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const mig = await migrate(db);
  log.info({ applied: mig.applied, skipped: mig.skipped, features: mig.features, db: db.kind }, 'database ready');
  for (const w of mig.warnings) log.warn(w);
  const seedResult = await seed(db, { adminPassword: config.adminPassword, demo: config.demo });
  if (seedResult.seeded) log.info('sample district 120106 (synthetic) loaded');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'onegrid_process_' });

  const grids = new GridService(db);
  await grids.load();
  log.info({ version: grids.version, grids: grids.count }, 'grid index built');

  const bus = config.mqttUrl
    ? await mqttBus(
        serviceBrokerUrl(config.mqttUrl, config.mqttServiceSecret),
        log.child({ tier: 'bus' }),
        serviceClientId(`web-${process.pid}-${startedAt}`),
      )
    : localBus();
  const sessions = new Sessions(db, {
    idleMin: config.sessionIdleMin,
    maxHours: config.sessionMaxHours,
    require2fa: config.require2fa,
    cacheS: config.sessionCacheS,
  });
  // WebSocket sessions (ingest/auth/sockets.ts): cookie, bearer or a one-use ticket; re-checked by token hash.
  const tickets = new TicketStore();
  // Idle timeout, lifetime, disabled accounts and revocations applied as for every request.
  const userOfTokenHash = (h: string) => sessions.userByTokenHash(h);
  const socketAuth: UpgradeAuthDeps = { userOfToken: (t) => sessions.user(t), userOfTokenHash, tickets };
  const stillValid = async (h: string) => (await userOfTokenHash(h)) !== null;
  const recheckMs = config.sessionRecheckS * 1000;
  const live = new LiveHub({
    auth: socketAuth,
    stillValid,
    recheckMs,
    bus,
    log: log.child({ tier: 'live' }),
    registry,
  });
  const videoGuard = new SocketGuard({
    name: 'video',
    maxPerUser: MAX_VIDEO_SOCKETS_PER_USER,
    stillValid,
    recheckMs,
    onError: (err) => log.warn({ err }, '/video session re-check failed'),
  });
  // Cameras: one ffmpeg per camera on demand, shared by viewers; states reach the wall over /live.
  const cameraGrid = new Map<string, string | null>();
  const video = createVideoRelay({
    log: log.child({ tier: 'video' }),
    registry,
    async getCamera(id) {
      const d = await getDevice(db, id);
      if (!d || d.kind !== 'camera' || !d.rtsp) return null;
      cameraGrid.set(id, d.grid);
      // The demo's simulated cameras have no RTSP server behind them: they play a generated test picture.
      if (d.simulated && config.demo) return { id, rtsp: d.rtsp, testPattern: { name: d.name ?? id } };
      return { id, rtsp: d.rtsp, transport: 'tcp' };
    },
    onState(id, state) {
      live.publish({ type: 'camera', id, ...state }, { grid: cameraGrid.get(id) ?? '' });
    },
  });
  const services: Services = {
    config,
    db,
    dbFeatures: mig.features,
    log,
    registry,
    grids,
    sessions,
    ingest: null as never,
    bus,
    live,
    video,
    startedAt,
    ready: false,
    demo: config.demo,
    onStop: [],
    ext: { tickets },
  };
  // Cases: the service (web tier's CasePort), the rules runner fed by ingest after each commit, the timers.
  const cases = new CaseService({ db, grids, live, log: log.child({ tier: 'cases' }) });
  await cases.init();
  registerCaseMetrics(registry, db);
  // Evidence for camera events put in cases (Frigate snapshots, alarm-push pictures): bound once intake exists.
  let evidence: CaseEvidenceFetcher | null = null;
  const rules = new RulesRunner(cases, {
    rulesPath: path.join(config.dataDir, 'rules.json'),
    log: log.child({ tier: 'rules' }),
    onCaseEvents: (caseId, events) => evidence?.onCaseEvents(caseId, events),
  });
  await rules.start();
  const scheduler = new CaseScheduler(cases, log.child({ tier: 'timers' }));
  services.ext.cases = cases;
  services.ext.accounts = new Accounts(db, sessions);
  // Ended sessions pruned every minute; audit entries past AUDIT_RETENTION_DAYS (>= 180) once a day.
  sessions.startPruning((e) => log.warn({ err: e }, 'session prune failed'));
  const auditPrune = () =>
    pruneAudit(db, config.auditRetentionDays)
      .then((n) => n && log.info({ removed: n }, 'audit entries past retention pruned'))
      .catch((e) => log.warn({ err: e }, 'audit prune failed'));
  void auditPrune();
  const auditTimer = setInterval(auditPrune, 24 * 3600_000);
  auditTimer.unref();
  services.onStop.push(async () => {
    sessions.stop();
    clearInterval(auditTimer);
  });
  services.ext.rules = rules;
  attachVideoLinkage({ cases, video, live, db, log: log.child({ tier: 'video-linkage' }) });
  // Indicators pushed to the walls (`kpi` on /live) soon after cases change.
  const kpi = new KpiFeed({ cases, hub: live, bus, log: log.child({ tier: 'kpi' }) });
  services.onStop.push(async () => {
    kpi.close();
    await scheduler.stop();
    await rules.stop();
  });
  const eventTypes = new EventTypeTable(db);
  await eventTypes.load();
  eventTypes.start();
  services.onStop.push(async () => eventTypes.stop());
  services.ingest = createIngest({
    db,
    grids,
    log: log.child({ tier: 'ingest' }),
    registry,
    options: { timeZone: config.timeZone, eventTypes: eventTypes.table },
    onEvents: (rows) => rules.onEvents(rows),
    onReadings: (rows) => rules.onReadings(rows),
    onDeviceStatus: (id, online, at) => {
      rules.onDeviceStatus(id, online, at);
      // The wall shows devices going on- and offline as it happens (addressed to the device's grid).
      getDevice(db, id)
        .then((d) => {
          if (d) live.publish({ type: 'device', id, online, lastSeen: at.toISOString() }, { grid: d.grid ?? '' });
        })
        .catch((e) => log.warn({ err: e, device: id }, 'device status not published'));
    },
  });
  // Cameras' own alarm pushes (POST /api/intake/isapi|dahua/{id}), through the same rules.
  const intake = new AlarmIntake({
    db,
    grids,
    log: log.child({ tier: 'intake' }),
    eventTypes,
    checkCredentials: (id, secret) => services.ingest.checkCredentials(id, secret),
    onEvents: (rows) => rules.onEvents(rows),
    timeZone: config.timeZone,
  });
  evidence = new CaseEvidenceFetcher({ db, log: log.child({ tier: 'evidence' }), intake });
  services.ext.intake = intake;
  services.ext.eventTypes = eventTypes;
  registerServices(services);

  let broker: EmbeddedBroker | null = null;
  if (config.mqttUrl) {
    // The service login and a client id by the client-id rule (ingest/broker/auth.ts): `_onegrid:{INGEST_ID}`.
    await services.ingest.connectExternal(serviceBrokerUrl(config.mqttUrl, config.mqttServiceSecret), {
      clientId: serviceClientId(config.ingestId),
    });
    log.info({ url: redactUrl(config.mqttUrl) }, 'ingest connected to external broker');
  } else {
    broker = await startEmbeddedBroker({
      port: config.mqttPort,
      host: config.host,
      log: log.child({ tier: 'broker' }),
      aedes: services.ingest.brokerHooks,
      tls: config.tls ? { port: config.mqttsPort, ...config.tls } : null,
    });
    services.ingest.attachEmbedded(broker.aedes);
    log.info({ port: broker.port, tlsPort: broker.tlsPort }, 'embedded MQTT broker listening');
  }

  // The SvelteKit app (adapter-node's handler), loaded after the services are registered.
  const handlerPath = opts.handlerPath ?? BUILD_HANDLER;
  if (!existsSync(handlerPath)) throw new Error(`web app is not built (${handlerPath} missing): run \`npm run build\``);
  // adapter-node assumes https unless told the protocol by a header; our server speaks plain HTTP (TLS,
  // when used, ends at a proxy that sets X-Forwarded-Proto). Without this, cookies would be marked Secure
  // and a wall opened at http://<lan-ip>:3000 could not sign in. Read by the adapter at import time.
  process.env.PROTOCOL_HEADER ??= 'x-forwarded-proto';
  const { handler } = (await import(pathToFileURL(handlerPath).href)) as { handler: NodeHandler };

  const upgrades: UpgradeHandler[] = [
    (req, socket, head, url) => {
      const m = /^\/video\/([A-Za-z0-9._-]{1,64})$/.exec(url.pathname);
      if (!m) return false;
      // Authenticated and scoped like every other request: the camera must be in the user's read scope
      // (ingest/auth/scope.ts); at most MAX_VIDEO_SOCKETS_PER_USER per user; closed when the session ends.
      (async () => {
        const session = await authenticateUpgrade(req, url, socketAuth);
        if (!session) return refuseUpgrade(socket, 401);
        const cam = await getDevice(db, m[1]);
        if (!cam || cam.kind !== 'camera' || !(await deviceVisible(db, scopeOf(session.user), cam.id)))
          return refuseUpgrade(socket, 404);
        if (!videoGuard.hasRoom(session.user.username)) return refuseUpgrade(socket, 429);
        video.handleUpgrade(req, socket, head, m[1], url.searchParams, (ws) => videoGuard.add(ws, session));
      })().catch((e) => {
        log.error({ err: e }, 'video upgrade failed');
        socket.destroy();
      });
      return true;
    },
    (req, socket, head, url) => {
      if (url.pathname !== '/live') return false;
      live.handleUpgrade(req, socket, head, url).catch((e) => {
        log.error({ err: e }, 'live upgrade failed');
        socket.destroy();
      });
      return true;
    },
  ];
  if (broker) {
    const b = broker;
    upgrades.push((req, socket, head, url) => {
      if (url.pathname !== '/mqtt') return false;
      b.handleUpgrade(req, socket, head);
      return true;
    });
  }
  // With TLS_CERT/TLS_KEY the server itself speaks HTTPS (and /mqtt is then WSS); otherwise plain HTTP.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    req.headers['x-forwarded-proto'] ??= config.tls ? 'https' : 'http';
    handler(req, res, () => {
      res.statusCode = 404;
      res.end();
    });
  };
  const http: Server = config.tls
    ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' }, onRequest)
    : createServer(onRequest);
  // Keep idle connections longer than a proxy in front keeps its upstream ones (nginx's keepalive_timeout is
  // 60 s): with Node's default 5 s, the server closes a connection just as the proxy reuses it, and that
  // request fails with ECONNRESET (a known pitfall of Node behind load balancers; see nodejs/node#27363).
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Cross-site WebSocket hijacking: a browser's Origin must be ours or allowed (ingest/auth/sockets.ts).
    if (!originAllowed(req, config.wsAllowedOrigins)) return refuseUpgrade(socket, 403);
    for (const h of upgrades) if (h(req, socket, head, url)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const addr = http.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.port;

  let sim: Simulator | null = null;
  if (config.demo) {
    const demoKey = await getKv<string>(db, 'demo_key');
    if (demoKey) {
      const mqttUrl = config.mqttUrl ?? `mqtt://127.0.0.1:${broker!.port}`;
      sim = await startSimulator({ db, mqttUrl, demoKey, log: log.child({ tier: 'demo' }) });
      log.info({ devices: sim.deviceCount, gateways: sim.gatewayCount }, 'SIMULATED fleet publishing over MQTT');
    } else log.warn('DEMO=1 but no demo key (database seeded without the sample fleet): no simulated fleet');
  }
  // A version published elsewhere (CLI, another replica) is picked up within 15 s; the wall is told.
  const gridPoll = setInterval(() => {
    grids
      .refreshIfChanged()
      .then((changed) => {
        if (changed) {
          log.info({ version: grids.version }, 'new grid version published: index rebuilt');
          live.publish({ type: 'grid', event: 'published', version: grids.version }, { grid: null });
        }
      })
      .catch((e) => log.warn({ err: e }, 'grid version check failed'));
  }, 15_000);
  gridPoll.unref();
  services.onStop.push(async () => clearInterval(gridPoll));
  scheduler.start();
  services.ready = true;

  let stopping: Promise<void> | null = null;
  const platform: Platform = {
    services,
    http,
    httpPort,
    broker,
    seedResult,
    onUpgrade(h) {
      upgrades.unshift(h);
    },
    stop() {
      stopping ??= (async () => {
        services.ready = false;
        // Stop intake first, then flush what was accepted, then close the database.
        await sim?.stop().catch((e) => log.error({ err: e }, 'simulator stop'));
        http.closeIdleConnections?.();
        const httpClosed = new Promise<void>((r) => http.close(() => r()));
        for (const stop of services.onStop) await stop().catch((e) => log.error({ err: e }, 'stop hook'));
        await services.ingest.stop().catch((e) => log.error({ err: e }, 'ingest stop'));
        videoGuard.close();
        await video.close().catch((e) => log.error({ err: e }, 'video close'));
        await live.close();
        await bus.close().catch(() => {});
        await broker?.close().catch((e) => log.error({ err: e }, 'broker close'));
        http.closeAllConnections?.();
        await httpClosed;
        await db.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
  return platform;
}

export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '[unparsable url]';
  }
}
