// One camera relayed in one output mode: one ffmpeg, started for the first viewer, shared by all, restarted
// with backoff when the camera drops, stopped a while after the last viewer leaves.
import type { ChildProcess, spawn as spawnFn } from 'node:child_process';
import type { WebSocket } from 'ws';
import { inputArgs, outputArgs, spawnFfmpeg, stopProcess, type OutputMode } from './ffmpeg.ts';
import { testPatternArgs } from './test-pattern.ts';
import { failureLog } from './failure-log.ts';
import type { VideoMetrics } from './metrics.ts';
import { Mp4FragmentSplitter } from './mp4-fragments.ts';
import { MpegTsChunker } from './mpegts-chunks.ts';
import { redact, redactForBrowser } from './redact.ts';
import type { CameraSource, CameraState, Logger } from './types.ts';
import { Viewer, type Segment } from './viewer.ts';

export interface StreamSettings {
  spawn: typeof spawnFn;
  ffmpegPath: string;
  tag: string;
  log: Logger;
  metrics: VideoMetrics;
  idleStopMs: number;
  maxViewerBufferBytes: number;
  slowViewerDropMs: number;
  /** No first keyframe this long after spawning: kill and report failed. */
  startTimeoutMs: number;
  /** No bytes from ffmpeg this long while live: kill and restart. */
  stallTimeoutMs: number;
  /** ffmpeg's own RTSP socket timeout. */
  socketTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Input codec per camera id, as ffmpeg reported it: 'auto' cameras that are not H.264 go to MPEG-1. */
  codecs: Map<string, string>;
  now: () => number;
}

/** A stream that stayed live this long forgets its earlier failures: the next drop retries quickly. */
const STABLE_MS = 10_000;
/** Most bytes of the current GOP kept for late joiners and snapshots. */
const GOP_CAP_BYTES = 16 * 1024 * 1024;

export class CameraStream {
  readonly viewers = new Set<Viewer>();
  state: CameraState = { state: 'idle' };
  private proc: ChildProcess | null = null;
  private mode: OutputMode = 'passthrough';
  private init: { message: object; data: Buffer | null } | null = null;
  private gop: Segment[] = [];
  private gopBytes = 0;
  private failures = 0;
  private spawnedAt = 0;
  private liveSince = 0;
  private lastDataAt = 0;
  private killReason: string | null = null;
  private switching = false;
  private thoroughProbe = false;
  /** close() was called: no more timers, no restarts. */
  private shutDown = false;
  private stopping = false;
  private stderrTail: string[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    public camera: CameraSource,
    /** 'default': the camera's own choice; 'mpeg1': a viewer that cannot play H.264 asked for MPEG-1. */
    readonly requested: 'default' | 'mpeg1',
    private readonly s: StreamSettings,
    private readonly onStateChange: (stream: CameraStream) => void,
    private readonly onIdle: (stream: CameraStream) => void,
  ) {}

  get outputMode(): OutputMode {
    return this.mode;
  }

  /** What a snapshot can decode without asking the camera: init segment + the GOP so far. */
  liveBytes(): { format: 'mp4' | 'mpegts'; data: Buffer } | null {
    if (this.state.state !== 'live' || this.gop.length === 0 || !this.gop[0].key) return null;
    const parts = this.gop.map((g) => g.data);
    if (this.mode === 'passthrough') {
      if (!this.init?.data) return null;
      return { format: 'mp4', data: Buffer.concat([this.init.data, ...parts]) };
    }
    return { format: 'mpegts', data: Buffer.concat(parts) };
  }

  addViewer(ws: WebSocket): void {
    const viewer = new Viewer(ws, this.s.maxViewerBufferBytes, this.s.slowViewerDropMs, this.s.now);
    this.viewers.add(viewer);
    this.s.metrics.viewers.inc({ mode: this.mode });
    ws.on('close', () => this.removeViewer(viewer));
    ws.on('error', (err) => this.s.log.warn({ camera: this.camera.id, err: err.message }, 'video viewer socket error'));
    // Viewers send nothing we need; ignore any message rather than buffer it.
    ws.on('message', () => {});
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    viewer.sendJson({ type: 'state', ...this.state });
    if (this.init) {
      this.s.metrics.bytesOut.inc({ mode: this.mode }, viewer.sendInit(this.init.message, this.init.data));
      // Late joiner: the GOP so far, from its keyframe, so that the first picture shows at once.
      for (const seg of this.gop) this.deliver(viewer, seg);
    }
    if (!this.proc && !this.retryTimer) this.start();
  }

  private removeViewer(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    this.s.metrics.viewers.dec({ mode: this.mode });
    if (this.viewers.size === 0 && !this.idleTimer && !this.shutDown) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.viewers.size === 0) this.stop().catch((err) => this.s.log.error({ err }, 'video stream stop failed'));
      }, this.s.idleStopMs);
    }
  }

  private setState(state: CameraState): void {
    this.state = state;
    for (const v of this.viewers) v.sendJson({ type: 'state', ...state });
    this.onStateChange(this);
  }

  private chooseMode(): OutputMode {
    if (this.requested === 'mpeg1') return 'mpeg1';
    const m = this.camera.mode ?? 'auto';
    if (m !== 'auto') return m;
    const codec = this.s.codecs.get(this.camera.id);
    return codec && codec !== 'h264' ? 'mpeg1' : 'passthrough';
  }

  private start(): void {
    this.retryTimer = null;
    this.stopping = false;
    this.killReason = null;
    this.switching = false;
    this.stderrTail = [];
    this.init = null;
    this.gop = [];
    this.gopBytes = 0;
    const previousMode = this.mode;
    this.mode = this.chooseMode();
    if (previousMode !== this.mode && this.viewers.size) {
      this.s.metrics.viewers.dec({ mode: previousMode }, this.viewers.size);
      this.s.metrics.viewers.inc({ mode: this.mode }, this.viewers.size);
    }
    const args = this.camera.testPattern
      ? testPatternArgs({ id: this.camera.id, name: this.camera.testPattern.name, mode: this.mode, tag: this.s.tag })
      : [
          ...inputArgs({
            url: this.camera.rtsp,
            transport: this.camera.transport ?? 'tcp',
            tag: this.s.tag,
            timeoutMs: this.s.socketTimeoutMs,
            probe: this.thoroughProbe ? 'thorough' : 'fast',
          }),
          ...outputArgs(this.mode),
        ];
    this.setState({ state: 'starting', mode: this.mode });
    this.s.log.info(
      {
        camera: this.camera.id,
        rtsp: redact(this.camera.rtsp),
        mode: this.mode,
        transport: this.camera.transport ?? 'tcp',
      },
      'video: starting ffmpeg',
    );
    let proc: ChildProcess;
    try {
      proc = spawnFfmpeg(this.s.spawn, this.s.ffmpegPath, args);
    } catch (err) {
      this.onExit(null, cannotStart(err as Error));
      return;
    }
    this.proc = proc;
    this.spawnedAt = this.lastDataAt = this.s.now();
    this.liveSince = 0;
    this.s.metrics.ffmpeg.inc({ mode: this.mode });
    const mode = this.mode;
    let exited = false;
    const exit = (reason?: string) => {
      if (exited) return;
      exited = true;
      this.s.metrics.ffmpeg.dec({ mode });
      this.onExit(proc, reason);
    };
    proc.on('error', (err) => exit(cannotStart(err)));
    proc.on('exit', (code, signal) =>
      exit(code !== null ? `ffmpeg exited with code ${code}` : `ffmpeg killed by ${signal}`),
    );

    const mp4 = new Mp4FragmentSplitter();
    const ts = new MpegTsChunker();
    proc.stdout!.on('data', (chunk: Buffer) => {
      if (this.proc !== proc) return;
      this.lastDataAt = this.s.now();
      try {
        for (const seg of mode === 'passthrough' ? mp4.push(chunk) : ts.push(chunk)) {
          if (seg.kind === 'init') {
            if (this.mustTranscode(proc, seg.sampleEntry)) return;
            this.onInit(seg.codecs, seg.data);
          } else this.onSegment(seg);
        }
      } catch (err) {
        this.kill(`unreadable output from ffmpeg: ${(err as Error).message}`);
      }
    });
    let partial = '';
    const dump = { output: false };
    proc.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(proc, line, dump);
    });

    if (mode === 'mpeg1') {
      // MPEG-TS has no init segment: announce the mode now; JSMpeg starts at the first sequence header.
      this.onInit(null, null);
    }
    if (!this.watchdog) this.watchdog = setInterval(() => this.checkWatchdog(), 500);
  }

  private onStderrLine(proc: ChildProcess, raw: string, dump: { output: boolean }): void {
    const line = redact(raw.trim());
    if (!line) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > 30) this.stderrTail.shift();
    if (line.startsWith('Output #0')) dump.output = true;
    // The input's stream dump, before ffmpeg writes anything: "Stream #0:0: Video: h264 (High), yuv420p…".
    const m = dump.output ? null : /Stream #0:\d+.*?: Video: (\w+)/.exec(line);
    // The test picture's input is raw frames that ffmpeg itself encodes to H.264: nothing to switch.
    if (m && this.proc === proc && !this.camera.testPattern) {
      const codec = m[1];
      this.s.codecs.set(this.camera.id, codec);
      if (
        this.mode === 'passthrough' &&
        codec !== 'h264' &&
        (this.camera.mode ?? 'auto') === 'auto' &&
        this.requested === 'default'
      ) {
        this.switchToMpeg1(proc, codec);
      }
    }
  }

  /**
   * An 'auto' camera whose init segment is not H.264 (MSE cannot be relied on to play it): remember its
   * codec and restart in MPEG-1 at once, before any viewer sees the passthrough stream.
   */
  private mustTranscode(proc: ChildProcess, sampleEntry: string | null): boolean {
    if (sampleEntry === 'avc1' || sampleEntry === 'avc3') return false;
    if ((this.camera.mode ?? 'auto') !== 'auto' || this.requested !== 'default') return false;
    this.s.codecs.set(this.camera.id, sampleEntry ?? 'unknown');
    this.switchToMpeg1(proc, sampleEntry ?? 'unknown');
    return true;
  }

  private switchToMpeg1(proc: ChildProcess, codec: string): void {
    if (this.switching) return;
    this.s.log.info({ camera: this.camera.id, codec }, 'video: camera is not H.264, transcoding to MPEG-1 for JSMpeg');
    this.switching = true;
    this.proc = proc; // keep ownership until it exits, then onExit restarts in MPEG-1
    proc.stdout?.removeAllListeners('data');
    proc.kill('SIGKILL');
  }

  private onInit(codecs: string | null, data: Buffer | null): void {
    const message =
      this.mode === 'passthrough'
        ? { type: 'init', mode: 'passthrough', mime: codecs ? `video/mp4; codecs="${codecs}"` : 'video/mp4' }
        : { type: 'init', mode: 'mpeg1', mime: 'video/mp2t' };
    this.init = { message, data };
    this.gop = [];
    this.gopBytes = 0;
    for (const v of this.viewers) this.s.metrics.bytesOut.inc({ mode: this.mode }, v.sendInit(message, data));
  }

  private onSegment(seg: Segment): void {
    if (seg.key) {
      this.gop = [seg];
      this.gopBytes = seg.data.length;
      if (this.state.state !== 'live') {
        failureLog.ok(this.camera.id);
        this.liveSince = this.s.now();
        this.setState({ state: 'live', mode: this.mode });
      }
    } else if (this.gop.length) {
      this.gopBytes += seg.data.length;
      if (this.gopBytes > GOP_CAP_BYTES) {
        this.gop = [];
        this.gopBytes = 0;
      } else this.gop.push(seg);
    }
    for (const v of [...this.viewers]) this.deliver(v, seg);
  }

  private deliver(viewer: Viewer, seg: Segment): void {
    const r = viewer.send(seg);
    if (r === 'sent') this.s.metrics.bytesOut.inc({ mode: this.mode }, seg.data.length);
    else if (r === 'skipped') this.s.metrics.skipped.inc({ mode: this.mode });
    else if (r === 'drop') {
      this.s.metrics.dropped.inc({ mode: this.mode });
      this.s.log.warn({ camera: this.camera.id }, 'video: dropping a viewer that stayed too far behind');
      viewer.ws.close(4008, 'too slow');
      viewer.ws.terminate();
      this.removeViewer(viewer);
    }
  }

  private checkWatchdog(): void {
    if (!this.proc) return;
    const now = this.s.now();
    if (this.state.state === 'starting' && now - this.spawnedAt > this.s.startTimeoutMs) {
      this.kill(`no video from the camera within ${Math.round(this.s.startTimeoutMs / 1000)} s`);
    } else if (this.state.state === 'live' && now - this.lastDataAt > this.s.stallTimeoutMs) {
      this.kill(`no data from the camera for ${Math.round(this.s.stallTimeoutMs / 1000)} s`);
    }
  }

  private kill(reason: string): void {
    if (!this.proc || this.killReason) return;
    this.killReason = reason;
    this.proc.kill('SIGKILL');
  }

  /** Why ffmpeg failed, in its own words where it said something useful (credentials already redacted). */
  private failureReason(fallback: string): string {
    if (this.killReason) return this.killReason;
    // setpriv (ffmpeg.ts) starts, then cannot exec a missing ffmpeg: "setpriv: failed to execute ffmpeg: No such file…".
    if (this.stderrTail.some((l) => /failed to execute .*No such file/i.test(l)))
      return cannotStart(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    const useful =
      /error|fail|refused|not found|unauthori[sz]ed|forbidden|timed out|timeout|invalid|no route|could not|unable|denied|reset|end of file/i;
    for (let i = this.stderrTail.length - 1; i >= 0; i--) {
      const line = this.stderrTail[i];
      if (useful.test(line)) return line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').slice(0, 300);
    }
    return fallback;
  }

  private onExit(proc: ChildProcess | null, fallback?: string): void {
    if (proc && this.proc !== proc) return;
    this.proc = null;
    if (this.stopping) return;
    if (this.switching) {
      this.start();
      return;
    }
    const reason = this.failureReason(fallback ?? 'ffmpeg exited');
    if (
      !this.thoroughProbe &&
      this.stderrTail.some((l) => /dimensions not set|could not find codec parameters|unspecified size/i.test(l))
    ) {
      this.thoroughProbe = true; // the short probe missed the codec parameters: probe longer from now on
    }
    if (this.liveSince && this.s.now() - this.liveSince >= STABLE_MS) this.failures = 0;
    this.failures++;
    if (this.viewers.size === 0) {
      this.stopTimers();
      this.setState({ state: 'idle' });
      this.onIdle(this);
      return;
    }
    const retryInMs = Math.min(this.s.backoffMaxMs, this.s.backoffInitialMs * 2 ** (this.failures - 1));
    // Logged with backoff too: the first failure, then ever more rarely while it keeps failing (with the
    // count of failures not logged), so a camera that is down does not fill the log every few seconds.
    const logged = failureLog.record(this.camera.id, reason, this.s.now());
    if (logged !== null)
      this.s.log.warn(
        { camera: this.camera.id, reason, retryInMs, failuresSinceLastLog: logged },
        'video: camera failed, restarting with backoff',
      );
    // Viewers and the wall are told why without the camera's address (the log above keeps it).
    this.setState({ state: 'failed', reason: redactForBrowser(reason), retryInMs });
    this.retryTimer = setTimeout(() => {
      this.s.metrics.restarts.inc({ mode: this.mode });
      this.start();
    }, retryInMs);
  }

  private stopTimers(): void {
    for (const t of [this.retryTimer, this.idleTimer]) if (t) clearTimeout(t);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = this.idleTimer = this.watchdog = null;
  }

  /** Stop ffmpeg (and any pending restart); viewers, if any, are closed with `closeCode`. */
  async stop(closeCode?: number): Promise<void> {
    this.stopping = true;
    if (closeCode) this.shutDown = true;
    this.stopTimers();
    if (closeCode) for (const v of this.viewers) v.ws.close(closeCode, 'video relay shutting down');
    const proc = this.proc;
    if (proc) await stopProcess(proc);
    this.proc = null;
    this.init = null;
    this.gop = [];
    if (!closeCode && this.viewers.size > 0) {
      // A viewer arrived while the idle stop was under way: it stays with this stream, which starts again.
      this.start();
      return;
    }
    if (this.state.state !== 'idle') this.setState({ state: 'idle' });
    this.onIdle(this);
  }
}

/**
 * Why ffmpeg could not be started, in words an operator acts on: a missing ffmpeg says how to install it
 * (the tile shows this text, web/lib/video/VideoTile.svelte).
 */
export function cannotStart(err: Error & { code?: string }): string {
  if (err.code === 'ENOENT' || /ENOENT/.test(err.message))
    return 'ffmpeg is not installed: install it (Debian/Ubuntu: sudo apt-get install ffmpeg) and reload';
  return `cannot start ffmpeg: ${err.message}`;
}
