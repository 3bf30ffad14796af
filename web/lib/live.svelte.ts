/**
 * The wall's end of `WS /live` (ingest/live/hub.ts): one WebSocket, reconnect with exponential backoff
 * and jitter, `?since=SEQ` on reconnect so the hub replays what was missed, and a full refetch (`onresync`)
 * when the hub says `resync` (the gap is older than its ring) or when we never had a seq.
 *
 * Messages are not handed out one by one: they are queued and delivered as one batch per animation frame
 * (`onbatch`), so 500 updates a second cost the page a handful of renders, not 500. The queue is bounded —
 * if a frame never comes (a background tab) and it overflows, it is dropped and a resync is asked for
 * instead, so memory stays flat however long the wall runs.
 */
export type LiveStatus = 'connecting' | 'open' | 'closed';

export interface LiveOptions<M extends { type: string; seq?: number }> {
  /** Path of the socket (default `/live`). */
  path?: string;
  /**
   * One frame's messages. `frameTime` is the animation frame's timestamp when the batch is delivered inside
   * a frame's callbacks (a listener may then draw at once, in the same frame), or null when delivered by
   * the fallback timer (draw on the next frame).
   */
  onbatch: (batch: M[], frameTime: number | null) => void;
  /** Refetch everything: after a gap the hub can no longer fill. */
  onresync: () => void;
  /** Largest queue between frames before it is dropped for a resync (default 20 000). */
  maxQueue?: number;
  /** Backoff bounds in ms (default 500 … 15 000). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class Live<M extends { type: string; seq?: number }> {
  status = $state<LiveStatus>('connecting');
  /** Messages received since the page opened (for the bench and the status line). */
  received = $state(0);
  lastSeq = 0;
  private ws: WebSocket | null = null;
  private queue: M[] = [];
  private frame = 0;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private needResync = false;
  private readonly opts: Required<Omit<LiveOptions<M>, 'path'>> & { path: string };

  constructor(opts: LiveOptions<M>) {
    this.opts = { path: '/live', maxQueue: 20_000, minDelayMs: 500, maxDelayMs: 15_000, ...opts };
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.queue = [];
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'page closed');
    this.status = 'closed';
  }

  private connect(): void {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = this.lastSeq > 0 ? `?since=${this.lastSeq}` : '';
    const hadSeq = this.lastSeq > 0;
    this.status = 'connecting';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${location.host}${this.opts.path}${since}`);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    let helloSeen = false;
    ws.onopen = () => {
      this.status = 'open';
      this.attempt = 0;
    };
    ws.onmessage = (ev) => {
      let m: M;
      try {
        m = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as M;
      } catch {
        return; // a malformed message is skipped; the stream goes on
      }
      this.received++;
      if (m.type === 'hello') {
        helloSeen = true;
        const seq = typeof m.seq === 'number' ? m.seq : 0;
        // The hub restarted (its seq went back) or we reconnected without a seq: what we hold may be stale.
        if (hadSeq && seq < this.lastSeq) this.needResync = true;
        if (!hadSeq) this.lastSeq = seq;
        this.schedule();
        return;
      }
      if (m.type === 'resync') {
        this.needResync = true;
        if (typeof m.seq === 'number') this.lastSeq = m.seq;
        this.schedule();
        return;
      }
      if (!helloSeen) return;
      if (typeof m.seq === 'number') {
        if (m.seq <= this.lastSeq && !this.needResync) return; // replay overlap
        this.lastSeq = m.seq;
      }
      if (this.queue.length >= this.opts.maxQueue) {
        this.queue = [];
        this.needResync = true;
      } else this.queue.push(m);
      this.schedule();
    };
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      this.status = 'closed';
      this.retry();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    const base = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** this.attempt);
    this.attempt++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private schedule(): void {
    if (this.frame) return;
    // rAF: at most one batch per painted frame. A hidden tab (or a GPU that cannot keep up) gets no frames
    // for a while; a 100 ms timeout keeps the queue moving, so news is never held longer than that.
    const flush = (frameTime: number | null) => {
      this.frame = 0;
      clearTimeout(fallback);
      this.flush(frameTime);
    };
    const fallback = setTimeout(() => {
      if (this.frame) cancelAnimationFrame(this.frame);
      flush(null);
    }, 100);
    this.frame = requestAnimationFrame(flush);
  }

  private flush(frameTime: number | null): void {
    if (this.needResync) {
      this.needResync = false;
      this.queue = [];
      this.opts.onresync();
      return;
    }
    if (!this.queue.length) return;
    const batch = this.queue;
    this.queue = [];
    this.opts.onbatch(batch, frameTime);
  }
}
