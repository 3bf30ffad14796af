// The relay's parsers and redaction on real ffmpeg output, split at arbitrary chunk boundaries.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mp4FragmentSplitter } from '../../ingest/video/mp4-fragments.ts';
import { MpegTsChunker } from '../../ingest/video/mpegts-chunks.ts';
import { redact } from '../../ingest/video/redact.ts';

function ffmpegBytes(args: string[]): Buffer {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-t',
      '3',
      ...args,
      'pipe:1',
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout;
}

// 3 s at 25 fps, keyframe every 10 frames, one fragment per frame: 75 fragments, 8 of them keyframes.
const fmp4 = ffmpegBytes([
  '-c:v',
  'libx264',
  '-preset',
  'ultrafast',
  '-g',
  '10',
  '-keyint_min',
  '10',
  '-sc_threshold',
  '0',
  '-bf',
  '0',
  '-f',
  'mp4',
  '-movflags',
  'frag_keyframe+empty_moov+default_base_moof+frag_every_frame',
]);

function split(bytes: Buffer, cuts: number[]) {
  const s = new Mp4FragmentSplitter();
  const out = [];
  let at = 0;
  for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length)].sort((a, b) => a - b)) {
    out.push(...s.push(bytes.subarray(at, c)));
    at = c;
  }
  out.push(...s.push(bytes.subarray(at)));
  return out;
}

describe('Mp4FragmentSplitter', () => {
  it('finds the init segment, every fragment, and which ones start with a keyframe', () => {
    const segs = split(fmp4, []);
    expect(segs[0].kind).toBe('init');
    expect(segs[0]).toMatchObject({ sampleEntry: 'avc1', codecs: expect.stringMatching(/^avc1\.[0-9a-f]{6}$/) });
    const frags = segs.slice(1);
    expect(frags).toHaveLength(75);
    const keys = frags.flatMap((f, i) => (f.kind === 'fragment' && f.key ? [i] : []));
    expect(keys).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    // Nothing lost: the segments are the stream (less the trailing mfra index).
    const total = segs.reduce((n, s) => n + s.data.length, 0);
    expect(fmp4.subarray(0, total).equals(Buffer.concat(segs.map((s) => s.data)))).toBe(true);
  });

  it('gives the same segments however the pipe chunks the bytes', () => {
    const whole = split(fmp4, []).map((s) => s.data.toString('base64'));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: fmp4.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(split(fmp4, cuts).map((s) => s.data.toString('base64'))).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('reports a non-H.264 sample entry so that auto mode falls back to MPEG-1', () => {
    const mjpeg = ffmpegBytes([
      '-c:v',
      'mjpeg',
      '-f',
      'mp4',
      '-movflags',
      'frag_keyframe+empty_moov+default_base_moof',
    ]);
    const [init] = split(mjpeg, []);
    expect(init).toMatchObject({ kind: 'init', codecs: null });
    expect((init as { sampleEntry: string }).sampleEntry).not.toMatch(/^avc/);
  });
});

describe('MpegTsChunker', () => {
  it('cuts whole 188-byte packets and starts a key chunk at each MPEG-1 sequence header', () => {
    const ts = ffmpegBytes(['-c:v', 'mpeg1video', '-g', '25', '-bf', '0', '-f', 'mpegts']);
    const c = new MpegTsChunker();
    const chunks = [];
    for (let i = 0; i < ts.length; i += 5000) chunks.push(...c.push(ts.subarray(i, i + 5000)));
    expect(chunks.every((k) => k.data.length % 188 === 0 && k.data[0] === 0x47)).toBe(true);
    const keys = chunks.filter((k) => k.key);
    expect(keys.length).toBeGreaterThanOrEqual(3); // 3 s, a GOP a second
    for (const k of keys) expect(k.data.subarray(0, 188 * 2).includes(Buffer.from([0, 0, 1, 0xb3]))).toBe(true);
  });
});

describe('redact', () => {
  it('removes credentials from URLs in any text, ffmpeg output included', () => {
    expect(redact("Input #0, rtsp, from 'rtsp://admin:s3cret@10.0.0.5:554/Streaming/101':")).toBe(
      "Input #0, rtsp, from 'rtsp://***@10.0.0.5:554/Streaming/101':",
    );
    expect(redact('rtsp://user@cam/x and rtsps://a:b@c/d')).toBe('rtsp://***@cam/x and rtsps://***@c/d');
    expect(redact('rtsp://10.0.0.5/x')).toBe('rtsp://10.0.0.5/x');
  });
});
