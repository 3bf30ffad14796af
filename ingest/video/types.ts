import type { spawn } from 'node:child_process';
import type { Registry } from 'prom-client';

export interface CameraSource {
  id: string;
  /** rtsp://[user:pass@]host[:port]/path — the credentials never leave the relay. */
  rtsp: string;
  transport?: 'tcp' | 'udp';
  /** auto (default): passthrough when the camera sends H.264, MPEG-1 for JSMpeg otherwise. */
  mode?: 'auto' | 'passthrough' | 'mpeg1';
  /**
   * A simulated camera of the demo (DEMO=1): instead of `rtsp`, ffmpeg generates a moving test picture
   * showing `name` (test-pattern.ts).
   */
  testPattern?: { name: string };
}

export type CameraState =
  | { state: 'idle' }
  | { state: 'starting'; mode?: 'passthrough' | 'mpeg1' }
  | { state: 'live'; mode: 'passthrough' | 'mpeg1' }
  | { state: 'failed'; reason: string; retryInMs?: number };

export interface Logger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export interface VideoRelayOptions {
  getCamera(id: string): Promise<CameraSource | null>;
  ffmpegPath?: string; // default 'ffmpeg'
  idleStopMs?: number; // stop ffmpeg this long after the last viewer leaves (default 10 000 ms)
  maxViewerBufferBytes?: number; // per-viewer send buffer bound (default 4 MiB)
  log?: Logger; // pino-like
  registry?: Registry; // metrics: viewers, ffmpeg processes, restarts, bytes
  onState?(cameraId: string, state: CameraState): void;
  spawn?: typeof spawn; // injectable for unit tests
  /** Optional tuning; the defaults suit production. */
  slowViewerDropMs?: number; // a viewer behind for this long is disconnected (default 15 000 ms)
  startTimeoutMs?: number; // no first keyframe within this: failed (default 10 000 ms)
  stallTimeoutMs?: number; // no bytes from a live ffmpeg for this long: restart (default 5 000 ms)
  socketTimeoutMs?: number; // ffmpeg's RTSP socket timeout (default 5 000 ms)
  backoffInitialMs?: number; // first restart delay, doubled per consecutive failure (default 1 000 ms)
  backoffMaxMs?: number; // (default 30 000 ms)
  snapshotTimeoutMs?: number; // (default 10 000 ms)
  /** Marks this relay's ffmpeg processes (in their RTSP User-Agent); default: our pid. */
  processTag?: string;
  now?: () => number;
}
