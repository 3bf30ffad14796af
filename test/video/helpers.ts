// Shared pieces of the video tests: an HTTP server that routes /video/{id} upgrades to a relay, a
// recording WebSocket client, and a process census of our ffmpegs.
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import {
  createVideoRelay,
  type CameraSource,
  type CameraState,
  type VideoRelayOptions,
} from '../../ingest/video/index.ts';

export interface RelayHarness {
  relay: ReturnType<typeof createVideoRelay>;
  server: Server;
  port: number;
  states: Array<{ camera: string; state: CameraState; at: number }>;
  logs: string[];
  close(): Promise<void>;
}

export async function startRelay(
  cameras: Record<string, Omit<CameraSource, 'id'>>,
  opts: Partial<VideoRelayOptions> = {},
  /** Other HTTP routes (the browser test's page); return true when handled. */
  serve?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean,
): Promise<RelayHarness> {
  const states: RelayHarness['states'] = [];
  const logs: string[] = [];
  const line = (level: string) => (o: object, m?: string) => logs.push(`${level} ${m ?? ''} ${JSON.stringify(o)}`);
  const relay = createVideoRelay({
    getCamera: async (id) => (cameras[id] ? { id, ...cameras[id] } : null),
    onState: (camera, state) => states.push({ camera, state, at: Date.now() }),
    log: { info: line('info'), warn: line('warn'), error: line('error') },
    ...opts,
  });
  const server = createServer((req, res) => {
    if (serve?.(req, res)) return;
    const m = /^\/api\/cameras\/([^/]+)\/snapshot$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    relay.snapshot(m[1]).then(
      (jpeg) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg),
      (err) => res.writeHead(502).end(String(err.message)),
    );
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/video\/([^/]+)$/.exec(url.pathname);
    if (!m) return socket.destroy();
    relay.handleUpgrade(req, socket, head, decodeURIComponent(m[1]), url.searchParams);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    relay,
    server,
    port,
    states,
    logs,
    close: async () => {
      await relay.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Recorder {
  ws: WebSocket;
  texts: Array<Record<string, unknown>>;
  binaries: Buffer[];
  /** Boxes seen at the start of each binary message: 'ftyp' for the init segment, 'moof' for a fragment. */
  firstBoxes: string[];
  openedAt: number;
  firstFragmentAt: number | null;
  closed: Promise<{ code: number; reason: string }>;
}

export function connect(port: number, cameraId: string, query = ''): Recorder {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/video/${cameraId}${query}`);
  const rec: Recorder = {
    ws,
    texts: [],
    binaries: [],
    firstBoxes: [],
    openedAt: Date.now(),
    firstFragmentAt: null,
    closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return void rec.texts.push(JSON.parse(data.toString()));
    const buf = data as Buffer;
    rec.binaries.push(buf);
    const box = buf.length >= 8 ? buf.toString('latin1', 4, 8) : '';
    rec.firstBoxes.push(box);
    if (rec.firstFragmentAt === null && box !== 'ftyp') rec.firstFragmentAt = Date.now();
  });
  ws.on('error', () => {});
  return rec;
}

export async function waitFor<T>(what: string, fn: () => T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PIDs of ffmpeg processes whose command line carries `marker` (our relays put their tag in the User-Agent). */
export function ffmpegPids(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    const argv = cmd.split('\0');
    if (argv.some((a) => a.endsWith('ffmpeg')) && argv.some((a) => a.includes(marker))) pids.push(Number(d));
  }
  return pids;
}
