// The demo's simulated cameras (issue 13, "Demo video that plays"): a generated moving test picture through
// the real relay and real ffmpeg, a plain message when ffmpeg is missing, and failures logged with backoff.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connect, ffmpegPids, startRelay, waitFor } from './helpers.ts';
import { drawableText, testPatternArgs } from '../../ingest/video/test-pattern.ts';
import { FailureLog } from '../../ingest/video/failure-log.ts';

const NAME = '东风街道鹰眼高点1号';

describe('demo test picture', { timeout: 60_000 }, () => {
  it('plays a simulated camera as H.264 fragments without any RTSP server, and snapshots it', async () => {
    const tag = `tp${randomUUID().slice(0, 8)}`;
    // The RTSP address is a closed port: only the test picture can make this camera play.
    const h = await startRelay(
      { sim: { rtsp: 'rtsp://127.0.0.1:9/none', testPattern: { name: NAME } } },
      { processTag: tag },
    );
    try {
      const v = connect(h.port, 'sim');
      await waitFor('five fragments', () => v.firstBoxes.filter((b) => b === 'moof').length >= 5);
      const init = v.texts.find((t) => t.type === 'init');
      expect(String(init?.mime)).toMatch(/^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
      expect(h.relay.states().sim).toEqual({ state: 'live', mode: 'passthrough' });
      // One ffmpeg, marked as this relay's, generating with lavfi.
      expect(ffmpegPids(tag)).toHaveLength(1);
      const jpeg = await h.relay.snapshot('sim');
      expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
      // The JSMpeg fallback plays it too.
      const m = connect(h.port, 'sim', '?mode=mpeg1');
      await waitFor('MPEG-TS bytes', () => m.binaries.length >= 3);
      v.ws.close();
      m.ws.close();
    } finally {
      await h.close();
    }
    expect(ffmpegPids(tag)).toEqual([]);
  });

  it('says plainly that ffmpeg is missing and how to install it', async () => {
    const h = await startRelay(
      { sim: { rtsp: 'rtsp://127.0.0.1:9/none', testPattern: { name: NAME } } },
      { ffmpegPath: '/nonexistent/ffmpeg', backoffInitialMs: 60_000 },
    );
    try {
      const v = connect(h.port, 'sim');
      const failed = await waitFor('failed state', () =>
        v.texts.find((t) => t.type === 'state' && t.state === 'failed'),
      );
      expect(String(failed.reason)).toMatch(/ffmpeg is not installed.*sudo apt-get install ffmpeg/);
      v.ws.close();
    } finally {
      await h.close();
    }
  });

  it('draws only plain text: quotes, colons and percent signs of a name cannot break the filter', () => {
    expect(drawableText("cam'1: 50% ,[x];=\\")).toBe('cam1 50 x');
    const args = testPatternArgs({ id: 'c-1', name: "a'b", mode: 'passthrough', tag: 't' });
    expect(args).toContain('lavfi');
    expect(args.join(' ')).toContain("text='ab c-1'");
    expect(args).toContain('libx264');
  });
});

describe('camera failures are logged with backoff', () => {
  it('logs the 1st, 2nd, 4th, 8th … failure or once a minute, with the count in between; a play resets', () => {
    const log = new FailureLog();
    const logged: number[] = [];
    for (let i = 1; i <= 20; i++) if (log.record('c', 'refused', i * 1000) !== null) logged.push(i);
    expect(logged).toEqual([1, 2, 4, 8, 16]);
    expect(log.record('c', 'refused', 17_000 + 60_000)).toBe(4); // a minute later: 17–20 were not logged
    log.ok('c');
    expect(log.record('c', 'refused', 100_000)).toBe(0);
  });
});
