// Splits ffmpeg's fragmented-MP4 output (ISO/IEC 14496-12) into the init segment (ftyp+moov) and media
// fragments (moof+mdat), and tells which fragments start with a keyframe, so that a late joiner or a
// viewer that fell behind can start cleanly at one.

export interface InitSegment {
  kind: 'init';
  data: Buffer;
  /** The sample entry type of the video track: 'avc1', 'avc3', 'hvc1', 'mp4v', … */
  sampleEntry: string | null;
  /** RFC 6381 codecs parameter for MSE, e.g. 'avc1.64001f'; null when not H.264. */
  codecs: string | null;
}

export interface MediaFragment {
  kind: 'fragment';
  data: Buffer;
  /** Its first sample is a sync sample (an IDR for H.264). */
  key: boolean;
}

// Sample flags, ISO/IEC 14496-12 §8.8.3.1: sample_is_non_sync_sample is bit 16.
const NON_SYNC = 0x00010000;

export class Mp4FragmentSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Buffer[] = []; // ftyp (and styp/free …) waiting for the moov or moof that follows
  private moof: Buffer | null = null;
  /** trex default_sample_flags per track, from moov/mvex. */
  private trexFlags = new Map<number, number>();

  /** Feed bytes; returns the complete segments they finish. */
  push(chunk: Buffer): Array<InitSegment | MediaFragment> {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Array<InitSegment | MediaFragment> = [];
    let off = 0;
    for (;;) {
      if (this.buf.length - off < 8) break;
      let size = this.buf.readUInt32BE(off);
      const type = this.buf.toString('latin1', off + 4, off + 8);
      if (size === 1) {
        if (this.buf.length - off < 16) break;
        size = Number(this.buf.readBigUInt64BE(off + 8));
      } else if (size === 0 || size < 8) {
        throw new Error(`unsupported MP4 box size ${size} for '${type}'`);
      }
      if (this.buf.length - off < size) break;
      const box = this.buf.subarray(off, off + size);
      off += size;
      if (type === 'moov') {
        this.readTrex(box);
        const data = Buffer.concat([...this.pending, box]);
        this.pending = [];
        out.push({ kind: 'init', data, ...codecOf(box) });
      } else if (type === 'moof') {
        this.moof = box;
      } else if (type === 'mdat' && this.moof) {
        const data = Buffer.concat([...this.pending, this.moof, box]);
        out.push({ kind: 'fragment', data, key: this.firstSampleIsSync(this.moof) });
        this.pending = [];
        this.moof = null;
      } else if (type === 'mfra') {
        // The random-access index ffmpeg writes at the end: nothing a live viewer needs.
      } else {
        this.pending.push(Buffer.from(box)); // ftyp, styp, sidx, free: kept with what follows
      }
    }
    // Copy the remainder so that the big chunk it came from can be freed.
    this.buf = off === 0 ? this.buf : Buffer.from(this.buf.subarray(off));
    return out;
  }

  private readTrex(moov: Buffer): void {
    const mvex = child(moov, 8, moov.length, 'mvex');
    if (!mvex) return;
    for (const trex of children(moov, mvex.start, mvex.end, 'trex')) {
      // FullBox header (4), track_ID, default_sample_description_index, default_sample_duration,
      // default_sample_size, default_sample_flags.
      const p = trex.start;
      if (trex.end - p >= 24) this.trexFlags.set(moov.readUInt32BE(p + 4), moov.readUInt32BE(p + 20));
    }
  }

  /** ISO/IEC 14496-12 §8.8.7 (tfhd) and §8.8.8 (trun): where the first sample's flags come from. */
  firstSampleIsSync(moof: Buffer): boolean {
    const traf = child(moof, 8, moof.length, 'traf');
    if (!traf) return false;
    const tfhd = child(moof, traf.start, traf.end, 'tfhd');
    const trun = child(moof, traf.start, traf.end, 'trun');
    if (!tfhd || !trun) return false;
    const tfFlags = moof.readUInt32BE(tfhd.start) & 0xffffff;
    const trackId = moof.readUInt32BE(tfhd.start + 4);
    let p = tfhd.start + 8;
    if (tfFlags & 0x01) p += 8; // base_data_offset
    if (tfFlags & 0x02) p += 4; // sample_description_index
    if (tfFlags & 0x08) p += 4; // default_sample_duration
    if (tfFlags & 0x10) p += 4; // default_sample_size
    let flags: number | undefined = tfFlags & 0x20 ? moof.readUInt32BE(p) : this.trexFlags.get(trackId);

    const trFlags = moof.readUInt32BE(trun.start) & 0xffffff;
    const count = moof.readUInt32BE(trun.start + 4);
    let q = trun.start + 8;
    if (trFlags & 0x01) q += 4; // data_offset
    if (trFlags & 0x04) {
      flags = moof.readUInt32BE(q); // first_sample_flags
    } else if (trFlags & 0x400 && count > 0) {
      if (trFlags & 0x100) q += 4; // sample_duration
      if (trFlags & 0x200) q += 4; // sample_size
      flags = moof.readUInt32BE(q);
    }
    if (flags === undefined) return false;
    return (flags & NON_SYNC) === 0;
  }
}

interface BoxRange {
  type: string;
  /** offset of the payload (after the header) */
  start: number;
  end: number;
}

function* children(buf: Buffer, start: number, end: number, type?: string): Generator<BoxRange> {
  let off = start;
  while (off + 8 <= end) {
    let size = buf.readUInt32BE(off);
    const t = buf.toString('latin1', off + 4, off + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(off + 8));
      header = 16;
    } else if (size === 0) size = end - off;
    if (size < header || off + size > end) return;
    if (!type || t === type) yield { type: t, start: off + header, end: off + size };
    off += size;
  }
}

function child(buf: Buffer, start: number, end: number, type: string): BoxRange | null {
  for (const b of children(buf, start, end, type)) return b;
  return null;
}

function path(buf: Buffer, start: number, end: number, types: string[]): BoxRange | null {
  let r: BoxRange | null = { type: '', start, end };
  for (const t of types) {
    r = child(buf, r.start, r.end, t);
    if (!r) return null;
  }
  return r;
}

/** The video track's sample entry and, for H.264, its RFC 6381 codecs string from the avcC box. */
export function codecOf(moov: Buffer): { sampleEntry: string | null; codecs: string | null } {
  for (const trak of children(moov, 8, moov.length, 'trak')) {
    const hdlr = path(moov, trak.start, trak.end, ['mdia', 'hdlr']);
    if (!hdlr || moov.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
    const stsd = path(moov, trak.start, trak.end, ['mdia', 'minf', 'stbl', 'stsd']);
    if (!stsd) continue;
    // stsd: FullBox header (4) + entry_count (4), then the sample entries.
    const entry = children(moov, stsd.start + 8, stsd.end).next().value;
    if (!entry) continue;
    const sampleEntry = entry.type;
    if (sampleEntry !== 'avc1' && sampleEntry !== 'avc3') return { sampleEntry, codecs: null };
    // VisualSampleEntry: 6 reserved + 2 data_reference_index + 70 bytes of visual fields = 78, then boxes.
    const avcC = child(moov, entry.start + 78, entry.end, 'avcC');
    if (!avcC) return { sampleEntry, codecs: null };
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    const codecs = `${sampleEntry}.${hex(moov[avcC.start + 1])}${hex(moov[avcC.start + 2])}${hex(moov[avcC.start + 3])}`;
    return { sampleEntry, codecs };
  }
  return { sampleEntry: null, codecs: null };
}
