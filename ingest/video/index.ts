// The video relay: RTSP cameras to browsers over WebSockets at /video/{cameraId} on the main HTTP port.
// Wire protocol and design: ./README.md.
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { DomainError } from '../../core/errors.ts';
import { CameraStream, type StreamSettings } from './camera-stream.ts';
import { snapshotFromPipeArgs, snapshotFromRtspArgs } from './ffmpeg.ts';
import { createVideoMetrics } from './metrics.ts';
import { redact } from './redact.ts';
import { runSnapshot } from './snapshot.ts';
import type { CameraState, Logger, VideoRelayOptions } from './types.ts';

export type { CameraSource, CameraState, VideoRelayOptions } from './types.ts';
export { redact } from './redact.ts';
export { USER_AGENT_PREFIX } from './ffmpeg.ts';

/** WebSocket close codes the relay uses (4000–4999 are the application's, RFC 6455 §7.4.2). */
export const CLOSE_CODES = {
  unknownCamera: 4404,
  tooSlow: 4008,
  shuttingDown: 1001,
  error: 1011,
  /** The viewer's session ended (sign-out, expiry, password change, disable): ingest/auth/sockets.ts. */
  sessionEnded: 4401,
} as const;

const silent: Logger = { info() {}, warn() {}, error() {} };

export interface VideoRelay {
  /** Take an authorised upgrade; `onSocket` gets the viewer's socket (to close it when its session ends). */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cameraId: string,
    query?: URLSearchParams,
    onSocket?: (ws: WebSocket) => void,
  ): void;
  snapshot(cameraId: string): Promise<Buffer>;
  states(): Record<string, CameraState>;
  close(): Promise<void>;
}

export function createVideoRelay(opts: VideoRelayOptions): VideoRelay {
  const log = opts.log ?? silent;
  const spawn = opts.spawn ?? nodeSpawn;
  const ffmpegPath = opts.ffmpegPath ?? 'ffmpeg';
  const tag = opts.processTag ?? `pid${process.pid}`;
  const now = opts.now ?? Date.now;
  const settings: StreamSettings = {
    spawn,
    ffmpegPath,
    tag,
    log,
    metrics: createVideoMetrics(opts.registry),
    idleStopMs: opts.idleStopMs ?? 10_000,
    maxViewerBufferBytes: opts.maxViewerBufferBytes ?? 4 * 1024 * 1024,
    slowViewerDropMs: opts.slowViewerDropMs ?? 15_000,
    startTimeoutMs: opts.startTimeoutMs ?? 10_000,
    stallTimeoutMs: opts.stallTimeoutMs ?? 5_000,
    socketTimeoutMs: opts.socketTimeoutMs ?? 5_000,
    backoffInitialMs: opts.backoffInitialMs ?? 1_000,
    backoffMaxMs: opts.backoffMaxMs ?? 30_000,
    codecs: new Map(),
    now,
  };
  const snapshotTimeoutMs = opts.snapshotTimeoutMs ?? 10_000;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  const streams = new Map<string, CameraStream>(); // key: `${cameraId}|${requested}`
  const reported = new Map<string, CameraState>();
  const pendingSnapshots = new Set<Promise<unknown>>();
  const snapshotProcs = new Set<ChildProcess>();
  const track = (proc: ChildProcess) => {
    snapshotProcs.add(proc);
    proc.once('close', () => snapshotProcs.delete(proc));
  };
  let closing = false;

  function streamsOf(cameraId: string): CameraStream[] {
    return [streams.get(`${cameraId}|default`), streams.get(`${cameraId}|mpeg1`)].filter((s): s is CameraStream => !!s);
  }

  /** A camera's state across its streams (normally one): live beats starting beats failed beats idle. */
  function aggregate(cameraId: string): CameraState {
    const states = streamsOf(cameraId).map((s) => s.state);
    for (const want of ['live', 'starting', 'failed'] as const) {
      const found = states.find((s) => s.state === want);
      if (found) return found;
    }
    return { state: 'idle' };
  }

  function report(cameraId: string): void {
    const state = aggregate(cameraId);
    const before = reported.get(cameraId);
    if (before && JSON.stringify(before) === JSON.stringify(state)) return;
    reported.set(cameraId, state);
    try {
      opts.onState?.(cameraId, state);
    } catch (err) {
      log.error({ err, camera: cameraId }, 'video: onState callback threw');
    }
  }

  async function attach(ws: WebSocket, cameraId: string, query?: URLSearchParams): Promise<void> {
    const camera = await opts.getCamera(cameraId);
    if (ws.readyState !== ws.OPEN) return;
    if (!camera) {
      ws.send(JSON.stringify({ type: 'error', code: 'not_found', message: `no camera ${cameraId}` }));
      ws.close(CLOSE_CODES.unknownCamera, 'unknown camera');
      return;
    }
    if (closing) {
      ws.close(CLOSE_CODES.shuttingDown, 'video relay shutting down');
      return;
    }
    // A browser that cannot play H.264 through MSE asks for ?mode=mpeg1 (JSMpeg); that is its own stream.
    const requested = query?.get('mode') === 'mpeg1' && camera.mode !== 'mpeg1' ? 'mpeg1' : 'default';
    const key = `${cameraId}|${requested}`;
    let stream = streams.get(key);
    if (!stream) {
      stream = new CameraStream(
        camera,
        requested,
        settings,
        (s) => report(s.camera.id),
        (s) => {
          if (streams.get(key) === s && s.viewers.size === 0) streams.delete(key);
          report(cameraId);
        },
      );
      streams.set(key, stream);
    } else {
      stream.camera = camera; // the registry may have a new URL; used on the next (re)start
    }
    stream.addViewer(ws);
  }

  return {
    handleUpgrade(req, socket, head, cameraId, query, onSocket) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        onSocket?.(ws);
        if (closing) {
          ws.close(CLOSE_CODES.shuttingDown, 'video relay shutting down');
          return;
        }
        attach(ws, cameraId, query).catch((err) => {
          log.error(
            { err: redact(String((err as Error)?.message ?? err)), camera: cameraId },
            'video: cannot attach viewer',
          );
          ws.close(CLOSE_CODES.error, 'internal error');
        });
      });
    },

    async snapshot(cameraId) {
      const live = streamsOf(cameraId)
        .map((s) => s.liveBytes())
        .find((b) => b !== null);
      if (closing) throw new DomainError('unprocessable', 'video relay is shutting down');
      let task: Promise<Buffer>;
      if (live) {
        task = runSnapshot(
          spawn,
          ffmpegPath,
          snapshotFromPipeArgs(live.format, tag),
          live.data,
          snapshotTimeoutMs,
          cameraId,
          track,
        );
      } else {
        const camera = await opts.getCamera(cameraId);
        if (!camera) throw new DomainError('not_found', `no camera ${cameraId}`);
        const args = snapshotFromRtspArgs({
          url: camera.rtsp,
          transport: camera.transport ?? 'tcp',
          tag,
          timeoutMs: settings.socketTimeoutMs,
        });
        task = runSnapshot(spawn, ffmpegPath, args, null, snapshotTimeoutMs, cameraId, track);
      }
      pendingSnapshots.add(task);
      try {
        return await task;
      } finally {
        pendingSnapshots.delete(task);
      }
    },

    states() {
      const out: Record<string, CameraState> = {};
      for (const [id, state] of reported) out[id] = state;
      return out;
    },

    async close() {
      closing = true;
      await Promise.all([...streams.values()].map((s) => s.stop(CLOSE_CODES.shuttingDown)));
      streams.clear();
      for (const proc of snapshotProcs) proc.kill('SIGKILL');
      await Promise.allSettled([...pendingSnapshots]);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
