// Cuts ffmpeg's MPEG-TS output (the JSMpeg wire format) into whole 188-byte packets and marks the chunks
// that carry an MPEG-1 sequence header, where a late joiner or a viewer that fell behind can start: JSMpeg
// cannot decode until it has seen one (ffmpeg's mpeg1video writes it before every intra frame).

const PACKET = 188;
const SEQUENCE_HEADER = Buffer.from([0x00, 0x00, 0x01, 0xb3]); // ISO/IEC 11172-2 §2.4.2.3

export interface TsChunk {
  kind: 'fragment';
  data: Buffer;
  key: boolean;
}

export class MpegTsChunker {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): TsChunk[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const whole = buf.length - (buf.length % PACKET);
    this.rest = Buffer.from(buf.subarray(whole));
    if (whole === 0) return [];
    const data = buf.subarray(0, whole);
    const at = data.indexOf(SEQUENCE_HEADER);
    if (at <= 0) return [{ kind: 'fragment', data, key: at === 0 }];
    // Start a new chunk at the packet that holds the sequence header, so that a viewer starting
    // there does not get the tail of the previous picture first.
    const cut = at - (at % PACKET);
    if (cut === 0) return [{ kind: 'fragment', data, key: true }];
    return [
      { kind: 'fragment', data: data.subarray(0, cut), key: false },
      { kind: 'fragment', data: data.subarray(cut), key: true },
    ];
  }
}
