/**
 * The running platform's services, as the web tier sees them (server side only). The platform process
 * registers them on a global symbol before it loads the SvelteKit handler; `web/lib/server/platform.ts`
 * reads them there. This keeps the database driver and broker out of the web bundle.
 */
import type { Registry } from 'prom-client';
import type { Config } from './config.ts';
import type { Db } from './store/db.ts';
import type { Logger } from './log.ts';
import type { GridService } from './grids/service.ts';
import type { Sessions } from './auth/sessions.ts';
import type { IngestPipeline } from './consumer/index.ts';
import type { DbFeatures } from './store/migrate.ts';
import type { Bus } from './live/bus.ts';
import type { LiveHub } from './live/hub.ts';
import type { VideoRelay } from './video/index.ts';

export interface Services {
  config: Config;
  db: Db;
  dbFeatures: DbFeatures;
  log: Logger;
  registry: Registry;
  grids: GridService;
  sessions: Sessions;
  ingest: IngestPipeline;
  bus: Bus;
  live: LiveHub;
  video: VideoRelay;
  startedAt: number;
  ready: boolean;
  demo: boolean;
  /** Called on shutdown, after intake stopped and before the database closes. */
  onStop: (() => Promise<void>)[];
  /** Extension point: later tiers (cases, live, video) hang their services here. */
  ext: Record<string, unknown>;
}

const KEY = Symbol.for('onegrid.services');

export function registerServices(s: Services): void {
  (globalThis as Record<symbol, unknown>)[KEY] = s;
}

export function getServices(): Services {
  const s = (globalThis as Record<symbol, unknown>)[KEY] as Services | undefined;
  if (!s) throw new Error('OneGrid services are not registered: start the platform with `npm start`');
  return s;
}
