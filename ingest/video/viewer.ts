// One WebSocket viewer of a camera stream, with its bounded send buffer: a viewer that falls behind stops
// getting fragments until the next keyframe (so that what it gets still decodes), and one that stays behind
// too long is disconnected; the other viewers of the camera never wait for it.
import type { WebSocket } from 'ws';

export interface Segment {
  data: Buffer;
  key: boolean;
}

export type SendResult = 'sent' | 'waiting' | 'skipped' | 'drop';

export class Viewer {
  /** Waiting for a keyframe: after joining, after an init segment, or after falling behind. */
  private needKey = true;
  private behindSince = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly maxBufferBytes: number,
    private readonly dropAfterMs: number,
    private readonly now: () => number,
  ) {}

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  sendJson(message: object): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  /** A new init segment: the client resets its decoder; media resumes at the next keyframe. */
  sendInit(message: object, data: Buffer | null): number {
    if (!this.open) return 0;
    this.ws.send(JSON.stringify(message));
    this.needKey = true;
    if (!data) return 0;
    this.ws.send(data, { binary: true });
    return data.length;
  }

  send(segment: Segment): SendResult {
    if (!this.open) return 'skipped';
    if (this.ws.bufferedAmount > this.maxBufferBytes) {
      // ws.bufferedAmount counts what is queued in this process, not yet taken by the kernel.
      if (!this.behindSince) this.behindSince = this.now();
      if (this.now() - this.behindSince > this.dropAfterMs) return 'drop';
      this.needKey = true;
      return 'skipped';
    }
    this.behindSince = 0;
    if (this.needKey) {
      if (!segment.key) return 'waiting';
      this.needKey = false;
    }
    this.ws.send(segment.data, { binary: true });
    return 'sent';
  }
}
