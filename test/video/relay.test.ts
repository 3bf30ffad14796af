// The video relay against a real GStreamer RTSP server and real ffmpeg processes.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRtspServer, type RtspServer } from '../harness/rtsp.ts';
import { connect, ffmpegPids, startRelay, waitFor, type RelayHarness } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rtsp: RtspServer;
beforeAll(async () => {
  rtsp = await startRtspServer();
});
afterAll(async () => {
  await rtsp?.stop();
});

async function withRelay(
  cameras: Parameters<typeof startRelay>[0],
  opts: Parameters<typeof startRelay>[1],
  body: (h: RelayHarness, tag: string) => Promise<void>,
): Promise<void> {
  const tag = `t${randomUUID().slice(0, 8)}`;
  const h = await startRelay(cameras, { processTag: tag, ...opts });
  try {
    await body(h, tag);
  } finally {
    await h.close();
    expect(ffmpegPids(tag), 'close() leaves no ffmpeg').toEqual([]);
  }
}

describe('video relay (passthrough)', () => {
  it('sends the init message, the init segment, then fragments starting at a keyframe', async () => {
    await withRelay({ cam: { rtsp: rtsp.url('h264-360') } }, {}, async (h) => {
      const v = connect(h.port, 'cam');
      await waitFor('five fragments', () => v.firstBoxes.filter((b) => b === 'moof').length >= 5);
      const init = v.texts.find((t) => t.type === 'init');
      expect(init).toMatchObject({ type: 'init', mode: 'passthrough' });
      expect(String(init!.mime)).toMatch(/^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
      expect(v.firstBoxes[0]).toBe('ftyp'); // ftyp+moov first
      expect(v.binaries[0].includes(Buffer.from('moov'))).toBe(true);
      expect(v.firstBoxes.slice(1).every((b) => b === 'moof')).toBe(true);
      expect(v.texts.some((t) => t.type === 'state' && t.state === 'live')).toBe(true);
      expect(h.relay.states().cam).toEqual({ state: 'live', mode: 'passthrough' });
      v.ws.close();
    });
  });

  it('relays a camera over RTSP/UDP when the camera says so', async () => {
    await withRelay({ cam: { rtsp: rtsp.url('h264-360'), transport: 'udp' } }, {}, async (h, tag) => {
      const v = connect(h.port, 'cam');
      await waitFor('fragments over UDP', () => v.firstBoxes.filter((b) => b === 'moof').length >= 5);
      const [pid] = ffmpegPids(tag);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      expect(argv[argv.indexOf('-rtsp_transport') + 1]).toBe('udp');
      v.ws.close();
    });
  });

  it('shares one ffmpeg between two viewers and counts them in the metrics', async () => {
    const registry = new Registry();
    await withRelay({ cam: { rtsp: rtsp.url('h264-360') } }, { registry }, async (h, tag) => {
      const a = connect(h.port, 'cam');
      await waitFor('first viewer live', () => a.firstFragmentAt);
      const b = connect(h.port, 'cam');
      await waitFor('second viewer live', () => b.firstFragmentAt);
      // The late joiner gets the init segment first, then media from a keyframe.
      expect(b.firstBoxes[0]).toBe('ftyp');
      expect(ffmpegPids(tag)).toHaveLength(1);
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/onegrid_video_viewers\{mode="passthrough"\} 2/);
      expect(metrics).toMatch(/onegrid_video_ffmpeg_processes\{mode="passthrough"\} 1/);
      expect(metrics).toMatch(/onegrid_video_bytes_out_total\{mode="passthrough"\} [1-9]/);
      a.ws.close();
      b.ws.close();
    });
  });

  it('stops ffmpeg idleStopMs after the last viewer leaves, not before', async () => {
    await withRelay({ cam: { rtsp: rtsp.url('h264-360') } }, { idleStopMs: 2_000 }, async (h, tag) => {
      const a = connect(h.port, 'cam');
      const b = connect(h.port, 'cam');
      await waitFor('both live', () => a.firstFragmentAt && b.firstFragmentAt);
      a.ws.close();
      await sleep(300);
      expect(ffmpegPids(tag)).toHaveLength(1); // one viewer left
      b.ws.close();
      const leftAt = Date.now();
      await sleep(1_000);
      expect(ffmpegPids(tag), 'still running within idleStopMs').toHaveLength(1);
      await waitFor('ffmpeg stopped', () => ffmpegPids(tag).length === 0, 5_000);
      expect(Date.now() - leftAt).toBeGreaterThanOrEqual(1_900);
      await waitFor('idle state', () => h.relay.states().cam?.state === 'idle');
    });
  });

  it('restarts with backoff when the camera dies and comes back when it returns', async () => {
    const own = await startRtspServer();
    const port = own.port;
    let server: RtspServer | null = own;
    try {
      await withRelay(
        { cam: { rtsp: own.url('h264-360') } },
        { backoffInitialMs: 500, backoffMaxMs: 2_000, stallTimeoutMs: 3_000, socketTimeoutMs: 3_000 },
        async (h) => {
          const v = connect(h.port, 'cam');
          await waitFor('live', () => v.firstFragmentAt);
          await server!.stop();
          server = null;
          const failed = await waitFor('failed state', () => h.states.find((s) => s.state.state === 'failed'), 10_000);
          expect(failed.state).toMatchObject({ state: 'failed', retryInMs: expect.any(Number) });
          // Retries keep failing while the server is down, with growing delays (500, 1000, 2000 …).
          await waitFor('two failures', () => h.states.filter((s) => s.state.state === 'failed').length >= 2, 10_000);
          const delays = h.states.flatMap((s) => (s.state.state === 'failed' ? [s.state.retryInMs!] : []));
          expect(delays[1]).toBeGreaterThan(delays[0]);
          const initsBefore = v.texts.filter((t) => t.type === 'init').length;
          const fragmentsBefore = v.firstBoxes.length;
          server = await startRtspServer({ port });
          await waitFor('live again', () => h.relay.states().cam?.state === 'live', 15_000);
          await waitFor('video again', () => v.firstBoxes.length > fragmentsBefore + 3, 5_000);
          // The restarted ffmpeg's new init segment reaches the viewer before its media.
          expect(v.texts.filter((t) => t.type === 'init').length).toBe(initsBefore + 1);
          expect(v.firstBoxes[fragmentsBefore]).toBe('ftyp');
          v.ws.close();
        },
      );
    } finally {
      await (server as RtspServer | null)?.stop();
    }
  });

  it('reports a bad RTSP URL as failed with a reason within seconds, without leaking credentials', async () => {
    const closed = await freePort(); // nothing listens there
    await withRelay(
      {
        refused: { rtsp: `rtsp://admin:s3cret@127.0.0.1:${closed}/stream` },
        missing: { rtsp: rtsp.url('no-such-mount').replace('rtsp://', 'rtsp://admin:s3cret@') },
      },
      { backoffInitialMs: 5_000 },
      async (h) => {
        const t0 = Date.now();
        const a = connect(h.port, 'refused');
        const b = connect(h.port, 'missing');
        const fa = await waitFor(
          'refused fails',
          () => h.states.find((s) => s.camera === 'refused' && s.state.state === 'failed'),
          5_000,
        );
        const fb = await waitFor(
          'missing fails',
          () => h.states.find((s) => s.camera === 'missing' && s.state.state === 'failed'),
          5_000,
        );
        expect(fa.at - t0).toBeLessThan(5_000);
        expect(fa.state).toMatchObject({ reason: expect.stringMatching(/refused/i) });
        expect(fb.state).toMatchObject({ reason: expect.stringMatching(/404|not found/i) });
        await waitFor('viewer told', () => a.texts.find((t) => t.state === 'failed'));
        const everything = JSON.stringify([h.logs, h.states, a.texts, b.texts]);
        expect(everything).not.toContain('s3cret');
        expect(everything).toContain('***@'); // the URL is logged, redacted
        a.ws.close();
        b.ws.close();
      },
    );
  });

  it('closes a viewer of an unknown camera with 4404', async () => {
    await withRelay({}, {}, async (h) => {
      const v = connect(h.port, 'nope');
      expect((await v.closed).code).toBe(4404);
    });
  });

  it('keeps a slow viewer bounded: it skips to the next keyframe, then is dropped, while another viewer goes on', async () => {
    const registry = new Registry();
    await withRelay(
      { cam: { rtsp: rtsp.url('h264-720') } },
      { registry, maxViewerBufferBytes: 64 * 1024, slowViewerDropMs: 2_000 },
      async (h) => {
        const fast = connect(h.port, 'cam');
        const slow = connect(h.port, 'cam');
        await waitFor('both live', () => fast.firstFragmentAt && slow.firstFragmentAt);
        // Stop reading: the kernel buffers fill, then the relay's queue for this viewer.
        (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        const before = fast.binaries.length;
        let metrics = '';
        for (let i = 0; i < 200; i++) {
          metrics = await registry.metrics();
          if (/fragments_skipped_total\{mode="passthrough"\} [1-9]/.test(metrics)) break;
          await sleep(100);
        }
        expect(metrics).toMatch(/onegrid_video_fragments_skipped_total\{mode="passthrough"\} [1-9]/);
        expect(fast.binaries.length).toBeGreaterThan(before + 25); // the other viewer kept getting video
        // Still behind after slowViewerDropMs: disconnected, and the other viewer still goes on.
        for (let i = 0; i < 80 && !/viewers_dropped_total\{mode="passthrough"\} 1/.test(metrics); i++) {
          await sleep(100);
          metrics = await registry.metrics();
        }
        expect(metrics).toMatch(/onegrid_video_viewers_dropped_total\{mode="passthrough"\} 1/);
        expect(metrics).toMatch(/onegrid_video_viewers\{mode="passthrough"\} 1/);
        const afterDrop = fast.binaries.length;
        await waitFor('fast viewer continues', () => fast.binaries.length > afterDrop + 10, 5_000);
        fast.ws.close();
        slow.ws.terminate();
      },
    );
  });
});

describe('video relay (MPEG-1 fallback)', () => {
  it('transcodes a non-H.264 camera to MPEG-TS for JSMpeg automatically', async () => {
    await withRelay({ mj: { rtsp: rtsp.url('mjpeg') } }, {}, async (h) => {
      const v = connect(h.port, 'mj');
      await waitFor('mpeg-ts data', () => v.binaries.length >= 5, 20_000);
      const inits = v.texts.filter((t) => t.type === 'init');
      expect(inits).toEqual([{ type: 'init', mode: 'mpeg1', mime: 'video/mp2t' }]); // never a passthrough init
      expect(v.binaries.every((b) => b.length % 188 === 0 && b[0] === 0x47)).toBe(true);
      const all = Buffer.concat(v.binaries);
      expect(all.includes(Buffer.from([0, 0, 1, 0xb3]))).toBe(true); // an MPEG-1 sequence header
      expect(h.relay.states().mj).toEqual({ state: 'live', mode: 'mpeg1' });
      v.ws.close();
    });
  });

  it('serves ?mode=mpeg1 to a browser without H.264 as its own stream', async () => {
    await withRelay({ cam: { rtsp: rtsp.url('h264-360') } }, {}, async (h, tag) => {
      const a = connect(h.port, 'cam');
      const b = connect(h.port, 'cam', '?mode=mpeg1');
      await waitFor('both', () => a.firstFragmentAt && b.binaries.length > 3, 20_000);
      expect(a.texts.find((t) => t.type === 'init')).toMatchObject({ mode: 'passthrough' });
      expect(b.texts.find((t) => t.type === 'init')).toMatchObject({ mode: 'mpeg1' });
      expect(ffmpegPids(tag)).toHaveLength(2);
      a.ws.close();
      b.ws.close();
    });
  });
});

describe('snapshots', () => {
  it('returns a JPEG from the camera when nobody watches, and from the live stream when someone does', async () => {
    await withRelay({ cam: { rtsp: rtsp.url('h264-360') } }, {}, async (h, tag) => {
      const cold = await h.relay.snapshot('cam');
      expect(cold.readUInt16BE(0)).toBe(0xffd8);
      expect(ffmpegPids(tag)).toEqual([]);
      const v = connect(h.port, 'cam');
      await waitFor('live', () => v.firstFragmentAt);
      const res = await fetch(`http://127.0.0.1:${h.port}/api/cameras/cam/snapshot`);
      expect(res.status).toBe(200);
      const hot = Buffer.from(await res.arrayBuffer());
      expect(hot.readUInt16BE(0)).toBe(0xffd8);
      expect(hot.readUInt16BE(hot.length - 2)).toBe(0xffd9);
      v.ws.close();
    });
  });

  it('fails with a clear error, quickly, for an unreachable camera or an unknown one', async () => {
    const closed = await freePort();
    await withRelay(
      { cam: { rtsp: `rtsp://u:p4ss@127.0.0.1:${closed}/x` } },
      { snapshotTimeoutMs: 5_000 },
      async (h) => {
        const t0 = Date.now();
        const err = await h.relay.snapshot('cam').catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toMatch(/refused/i);
        expect((err as Error).message).not.toContain('p4ss');
        expect(Date.now() - t0).toBeLessThan(5_000);
        await expect(h.relay.snapshot('nope')).rejects.toMatchObject({ code: 'not_found' });
      },
    );
  });
});

describe('shutdown', () => {
  async function killParentAndCount(url: string, until: 'live' | 'spawned'): Promise<void> {
    const tag = `k${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures/relay-child.ts'), url, tag, until], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('child relay ready', () => out.includes('READY'), 30_000);
      expect(ffmpegPids(tag)).toHaveLength(1);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      await waitFor('ffmpeg gone', () => ffmpegPids(tag).length === 0, 1_500);
    } finally {
      for (const pid of ffmpegPids(tag)) process.kill(pid, 'SIGKILL');
    }
  }

  it('leaves no ffmpeg behind when the parent process is killed with SIGKILL', async () => {
    await killParentAndCount(rtsp.url('h264-360'), 'live');
  });

  it('…also when that ffmpeg is waiting on a camera that never answers (no broken pipe to end it)', async () => {
    // A TCP server that accepts and says nothing: ffmpeg sits in its RTSP handshake, writing nothing, so
    // only the kernel's parent-death signal (setpriv --pdeathsig) can end it in time.
    const silent = createNetServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      await killParentAndCount(`rtsp://127.0.0.1:${(silent.address() as { port: number }).port}/x`, 'spawned');
    } finally {
      silent.close();
    }
  });
});
