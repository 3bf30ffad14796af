// Relay logic with an injected spawn (no ffmpeg): the command line, backoff arithmetic, and a viewer that
// arrives while an idle stop is under way.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CameraState } from '../../ingest/video/index.ts';
import { connect, startRelay, waitFor } from './helpers.ts';

interface FakeProc extends EventEmitter {
  stdout: PassThrough;
  stderr: PassThrough;
  exitCode: number | null;
  signalCode: string | null;
  kill(sig?: string): boolean;
  killRequested: boolean;
  cmd: string;
  args: string[];
}

function fakeSpawn(behaviour: (p: FakeProc) => void) {
  const procs: FakeProc[] = [];
  const spawn = ((cmd: string, args: string[]) => {
    const p = new EventEmitter() as FakeProc;
    p.stdout = new PassThrough();
    p.stderr = new PassThrough();
    p.exitCode = null;
    p.signalCode = null;
    p.cmd = cmd;
    p.args = args;
    p.killRequested = false;
    p.kill = (sig = 'SIGTERM') => {
      if (p.exitCode !== null || p.signalCode !== null) return false;
      p.killRequested = true;
      // A real process takes a moment to die.
      setTimeout(() => {
        p.signalCode = sig;
        p.emit('exit', null, sig);
        p.emit('close', null, sig);
      }, 300);
      return true;
    };
    procs.push(p);
    setImmediate(() => behaviour(p));
    return p;
  }) as unknown as typeof import('node:child_process').spawn;
  return { spawn, procs };
}

const refuse = (p: FakeProc) => {
  p.stderr.write(`[tcp @ 0x55d0c0a0] Connection to tcp://10.1.2.3:554?timeout=5000000 failed: Connection refused\n`);
  p.stderr.write(`rtsp://admin:pw1234@10.1.2.3/Streaming/101: Connection refused\n`);
  setTimeout(() => {
    p.exitCode = 1;
    p.emit('exit', 1, null);
    p.emit('close', 1, null);
  }, 10);
};

describe('video relay with a fake ffmpeg', () => {
  it('runs ffmpeg under setpriv --pdeathsig with the camera transport, and backs off 100, 200, 400, 400 ms', async () => {
    const { spawn, procs } = fakeSpawn(refuse);
    const h = await startRelay(
      { cam: { rtsp: 'rtsp://admin:pw1234@10.1.2.3/Streaming/101', transport: 'udp' } },
      { spawn, backoffInitialMs: 100, backoffMaxMs: 400, processTag: 'fake' },
    );
    try {
      const v = connect(h.port, 'cam');
      await waitFor('five attempts', () => procs.length >= 5, 5_000);
      const p = procs[0];
      expect(p.cmd).toBe('/usr/bin/setpriv');
      expect(p.args.slice(0, 3)).toEqual(['--pdeathsig', 'KILL', '--']);
      expect(p.args[3]).toBe('ffmpeg');
      expect(p.args[p.args.indexOf('-rtsp_transport') + 1]).toBe('udp');
      expect(p.args).toContain('OneGrid-video-relay/fake');
      const failed = h.states.flatMap((s) => (s.state.state === 'failed' ? [s.state] : [])) as Extract<
        CameraState,
        { state: 'failed' }
      >[];
      expect(failed.slice(0, 4).map((f) => f.retryInMs)).toEqual([100, 200, 400, 400]);
      expect(failed[0].reason).toMatch(/Connection refused/);
      expect(JSON.stringify([h.logs, h.states, v.texts])).not.toContain('pw1234');
      v.ws.close();
    } finally {
      await h.close();
    }
  });

  it('keeps a stream for a viewer who arrives while the idle stop is under way', async () => {
    // A "camera" that never sends anything but does not fail either.
    const { spawn, procs } = fakeSpawn(() => {});
    const h = await startRelay(
      { cam: { rtsp: 'rtsp://10.1.2.3/x' } },
      { spawn, idleStopMs: 50, startTimeoutMs: 60_000 },
    );
    try {
      const a = connect(h.port, 'cam');
      await waitFor('spawned', () => procs.length === 1);
      a.ws.close();
      // The idle stop fires after 50 ms and kills ffmpeg, which takes 300 ms to exit: join in between.
      await waitFor('kill requested', () => procs[0].killRequested, 2_000);
      const b = connect(h.port, 'cam');
      await waitFor('restarted for the new viewer', () => procs.length === 2, 2_000);
      expect(procs[1].exitCode).toBeNull();
      expect(h.relay.states().cam.state).toBe('starting');
      b.ws.close();
    } finally {
      await h.close();
    }
  });
});
