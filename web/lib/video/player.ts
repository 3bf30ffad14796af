// The browser side of the video relay (wire protocol: ingest/video/README.md). Framework-free, so that the
// Svelte tile and the browser tests run the same code.
//
//   passthrough: {"type":"init","mode":"passthrough","mime":…} + binary init segment + binary fMP4 fragments
//                → Media Source Extensions on a <video>.
//   mpeg1:       {"type":"init","mode":"mpeg1",…} + binary MPEG-TS → JSMpeg on a <canvas>.

export type TilePhase = 'connecting' | 'starting' | 'live' | 'failed' | 'reconnecting' | 'closed';

export interface TileStatus {
  phase: TilePhase;
  mode?: 'passthrough' | 'mpeg1';
  /** Why it failed, as the relay said (credentials are never in it). */
  reason?: string;
}

// The subset of @cycjimmy/jsmpeg-player (JSMpeg) we use.
interface JsmpegDestination {
  write(data: ArrayBuffer): void;
}
interface JsmpegPlayer {
  destroy(): void;
}
interface JsmpegNamespace {
  Player: new (url: string, options: Record<string, unknown>) => JsmpegPlayer;
}

export interface VideoPlayerOptions {
  /** ws(s)://host/video/{cameraId} */
  url: string;
  /** The player puts its <video> (passthrough) or <canvas> (JSMpeg) in here, filling it. */
  container: HTMLElement;
  onStatus(status: TileStatus): void;
  /** Default: import('@cycjimmy/jsmpeg-player'), loaded only when a camera needs it. */
  loadJsmpeg?: () => Promise<JsmpegNamespace>;
  /** Seconds behind the live edge before we jump forward (default 1.5). */
  maxLatency?: number;
}

async function defaultLoadJsmpeg(): Promise<JsmpegNamespace> {
  const mod = (await import('@cycjimmy/jsmpeg-player')) as unknown as { default: JsmpegNamespace };
  return mod.default;
}

/** Browsers that cannot play H.264 through MSE (some Linux builds) ask the relay for MPEG-1 instead. */
export function canPlayH264(): boolean {
  return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E"');
}

export class VideoPlayer {
  private ws: WebSocket | null = null;
  private destroyed = false;
  private retryMs = 1_000;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private forceMpeg1 = !canPlayH264();
  // passthrough
  private mediaSource: MediaSource | null = null;
  private sourceBuffer: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private objectUrl: string | null = null;
  private lastTrim = 0;
  // mpeg1
  private jsmpeg: JsmpegPlayer | null = null;
  private jsmpegSink: JsmpegDestination | null = null;
  private jsmpegPending: ArrayBuffer[] = [];
  private mode: 'passthrough' | 'mpeg1' | null = null;
  private status: TileStatus = { phase: 'connecting' };

  /** The passthrough picture. */
  readonly video: HTMLVideoElement;
  /** The JSMpeg picture, while the camera is in MPEG-1 mode (a new one per stream: JSMpeg owns its GL context). */
  canvas: HTMLCanvasElement | null = null;

  constructor(private readonly o: VideoPlayerOptions) {
    this.video = document.createElement('video');
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    fill(this.video);
    o.container.appendChild(this.video);
  }

  start(): void {
    this.connect();
  }

  destroy(): void {
    this.destroyed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.ws?.close();
    this.ws = null;
    this.reset();
    this.video.removeAttribute('src');
    this.video.remove();
    this.setStatus({ phase: 'closed' });
  }

  private setStatus(s: TileStatus): void {
    this.status = s;
    this.o.onStatus(s);
  }

  private connect(): void {
    if (this.destroyed) return;
    const url = this.forceMpeg1 ? `${this.o.url}${this.o.url.includes('?') ? '&' : '?'}mode=mpeg1` : this.o.url;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.setStatus({ phase: this.status.phase === 'connecting' ? 'connecting' : 'reconnecting' });
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.onText(ev.data);
      else this.onBinary(ev.data as ArrayBuffer);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.destroyed) return;
      this.ws = null;
      // 4404: no such camera (or no longer ours to see): retry slowly in case it comes back.
      const wait = ev.code === 4404 ? 30_000 : this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
      this.setStatus({ phase: 'reconnecting', reason: ev.reason || undefined });
      this.retryTimer = setTimeout(() => this.connect(), wait);
    };
  }

  private onText(text: string): void {
    let msg: { type?: string; state?: string; mode?: 'passthrough' | 'mpeg1'; mime?: string; reason?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'init') {
      this.retryMs = 1_000;
      this.reset();
      this.mode = msg.mode ?? null;
      if (msg.mode === 'passthrough') this.openMse(msg.mime ?? 'video/mp4');
      else if (msg.mode === 'mpeg1') void this.openJsmpeg();
    } else if (msg.type === 'state') {
      if (msg.state === 'failed') this.setStatus({ phase: 'failed', reason: msg.reason, mode: this.mode ?? undefined });
      else if (msg.state === 'starting') this.setStatus({ phase: 'starting' });
      // 'live' is reported once the picture actually moves (below), not when the relay says so.
    } else if (msg.type === 'error') {
      this.setStatus({ phase: 'failed', reason: (msg as { message?: string }).message });
    }
  }

  private onBinary(data: ArrayBuffer): void {
    if (this.mode === 'passthrough') {
      this.queue.push(data);
      this.pump();
    } else if (this.mode === 'mpeg1') {
      if (this.jsmpegSink) this.jsmpegSink.write(data);
      else this.jsmpegPending.push(data);
    }
  }

  // ---- passthrough: Media Source Extensions ----

  private openMse(mime: string): void {
    if (typeof MediaSource === 'undefined' || !MediaSource.isTypeSupported(mime)) {
      // This browser cannot decode the camera's H.264 profile: ask for MPEG-1 instead.
      this.forceMpeg1 = true;
      this.ws?.close();
      return;
    }
    const ms = new MediaSource();
    this.mediaSource = ms;
    this.objectUrl = URL.createObjectURL(ms);
    const video = this.video;
    video.src = this.objectUrl;
    ms.addEventListener(
      'sourceopen',
      () => {
        if (this.mediaSource !== ms) return;
        const sb = ms.addSourceBuffer(mime);
        sb.mode = 'segments';
        sb.addEventListener('updateend', () => {
          this.followLiveEdge();
          this.pump();
        });
        sb.addEventListener('error', () => this.setStatus({ phase: 'failed', reason: 'decoder error' }));
        this.sourceBuffer = sb;
        this.pump();
      },
      { once: true },
    );
    const onTime = () => {
      if (this.mediaSource === ms && video.currentTime > 0 && this.status.phase !== 'live') {
        this.setStatus({ phase: 'live', mode: 'passthrough' });
      }
    };
    video.ontimeupdate = onTime;
  }

  private pump(): void {
    const sb = this.sourceBuffer;
    if (!sb || sb.updating || this.queue.length === 0 || this.mediaSource?.readyState !== 'open') return;
    const now = performance.now();
    if (now - this.lastTrim > 10_000 && sb.buffered.length && this.video.currentTime > 30) {
      // Keep about 20 s behind the playhead: a wall runs for days.
      this.lastTrim = now;
      sb.remove(0, this.video.currentTime - 20);
      return;
    }
    const next = this.queue.shift()!;
    try {
      sb.appendBuffer(next);
    } catch (err) {
      if ((err as DOMException).name === 'QuotaExceededError' && sb.buffered.length) {
        this.queue.unshift(next);
        sb.remove(0, Math.max(sb.buffered.start(0) + 1, this.video.currentTime - 2));
      } else {
        this.setStatus({ phase: 'failed', reason: 'cannot append video' });
      }
    }
  }

  /** Stay near the live edge: jump over gaps (a skipped GOP) and forward when too far behind. */
  private followLiveEdge(): void {
    const video = this.video;
    const b = this.sourceBuffer?.buffered;
    if (!b || b.length === 0) return;
    const end = b.end(b.length - 1);
    const start = b.start(b.length - 1);
    const t = video.currentTime;
    const inLast = t >= start && t <= end;
    if (!inLast || end - t > (this.o.maxLatency ?? 1.5)) {
      video.currentTime = Math.max(start, end - 0.3);
    }
    if (video.paused) video.play().catch(() => {});
  }

  // ---- mpeg1: JSMpeg ----

  private async openJsmpeg(): Promise<void> {
    const JSMpeg = await (this.o.loadJsmpeg ?? defaultLoadJsmpeg)();
    if (this.mode !== 'mpeg1' || this.destroyed) return;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    // A JSMpeg "source" fed from our socket (JSMpeg's own WSSource would also get our JSON messages).
    class RelaySource {
      streaming = true;
      established = false;
      completed = false;
      progress = 1;
      destination: JsmpegDestination | null = null;
      connect(destination: JsmpegDestination) {
        this.destination = destination;
      }
      start() {
        self.jsmpegSink = { write: (d) => this.destination?.write(d) };
        for (const d of self.jsmpegPending.splice(0)) self.jsmpegSink.write(d);
      }
      resume() {}
      destroy() {}
    }
    const canvas = document.createElement('canvas');
    fill(canvas);
    this.o.container.appendChild(canvas);
    this.canvas = canvas;
    this.video.style.display = 'none';
    this.jsmpeg = new JSMpeg.Player('relay', {
      source: RelaySource,
      canvas,
      audio: false,
      autoplay: true,
      pauseWhenHidden: false,
      preserveDrawingBuffer: true,
      videoBufferSize: 2 * 1024 * 1024,
      onVideoDecode: () => {
        if (this.status.phase !== 'live') this.setStatus({ phase: 'live', mode: 'mpeg1' });
      },
    });
  }

  private reset(): void {
    this.queue = [];
    this.sourceBuffer = null;
    this.mediaSource = null;
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
    this.video.ontimeupdate = null;
    this.video.style.display = 'block';
    try {
      this.jsmpeg?.destroy();
    } catch {
      // JSMpeg's destroy may throw on a half-started player; the canvas goes anyway.
    }
    this.jsmpeg = null;
    this.canvas?.remove();
    this.canvas = null;
    this.jsmpegSink = null;
    this.jsmpegPending = [];
    this.mode = null;
  }
}

function fill(el: HTMLElement): void {
  el.style.width = '100%';
  el.style.height = '100%';
  el.style.objectFit = 'contain';
  el.style.display = 'block';
  el.style.background = '#000';
}
