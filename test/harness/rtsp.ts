// Starts and stops test/harness/rtsp-server.py (GStreamer's RTSP server) for the video tests and bench.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'rtsp-server.py');
// python3-gi is Debian's; a pyenv python3 on PATH would not have it.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface RtspServer {
  port: number;
  /** rtsp://127.0.0.1:PORT/MOUNT */
  url(mount: string): string;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start the server; resolves once it prints READY, rejects (naming the missing GStreamer elements) when a
 * pipeline cannot be built. `files` maps extra mounts to H.264 MP4 files; `launch` to gst-launch pipelines.
 */
export async function startRtspServer(
  opts: { port?: number; files?: Record<string, string>; launch?: Record<string, string> } = {},
): Promise<RtspServer> {
  const port = opts.port ?? (await freePort());
  const args = [script, String(port)];
  for (const [mount, path] of Object.entries(opts.files ?? {})) args.push('--file', `${mount}=${path}`);
  for (const [mount, launch] of Object.entries(opts.launch ?? {})) args.push('--launch', `${mount}=${launch}`);
  // Under setpriv --pdeathsig, like the relay's ffmpegs: a test process that crashes leaves no server behind.
  const [cmd, argv] = existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', python, ...args]]
    : [python, args];
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtsp-server did not start in 15 s: ${stderr}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp-server exited with ${code}: ${stderr}`));
    });
  });
  child.stdout!.resume();
  // A server that dies under a test makes every later test of the file fail with "Connection refused":
  // say so where the failure is read, with GStreamer's last words.
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`rtsp-server on port ${port} died (${signal ?? `exit ${code}`}): ${stderr}\n`);
  });
  return {
    port,
    pid: child.pid!,
    url: (mount) => `rtsp://127.0.0.1:${port}/${mount.replace(/^\//, '')}`,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

/**
 * An H.264 MP4 of a moving test pattern (ffmpeg testsrc2 + libx264, keyframe every 30 frames, no B-frames),
 * encoded once and cached in the temp dir, for the benchmark's file mounts: serving it costs the RTSP server
 * almost nothing, so the bench measures the relay and not an encoder.
 */
export function testPatternFile(
  width: number,
  height: number,
  seconds = 90,
  bitrateK = width >= 1920 ? 4000 : 2000,
): string {
  const dir = join(tmpdir(), 'onegrid-video-fixtures');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc2-${width}x${height}-${seconds}s-${bitrateK}k.mp4`);
  if (existsSync(file)) return file;
  const tmp = `${file}.part.mp4`;
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=25`,
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-tune',
      'zerolatency',
      '-profile:v',
      'main',
      '-pix_fmt',
      'yuv420p',
      '-g',
      '30',
      '-bf',
      '0',
      '-b:v',
      `${bitrateK}k`,
      '-maxrate',
      `${bitrateK}k`,
      '-bufsize',
      `${bitrateK * 2}k`,
      tmp,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`encoding the test pattern failed: ${r.stderr?.toString()}`);
  spawnSync('mv', [tmp, file]);
  return file;
}
