// ffmpeg command lines for the relay, and the spawn that makes sure no ffmpeg outlives its parent.
import type { ChildProcess, spawn as spawnFn } from 'node:child_process';
import { existsSync } from 'node:fs';

export type OutputMode = 'passthrough' | 'mpeg1';

/** Put into every ffmpeg's command line (as the RTSP User-Agent), so that tests and operators can find ours. */
export const USER_AGENT_PREFIX = 'OneGrid-video-relay';

export interface InputOptions {
  url: string;
  transport: 'tcp' | 'udp';
  /** Appended to the User-Agent: tells one relay's ffmpegs from another's. */
  tag: string;
  /** Socket I/O timeout: a camera that stops answering ends ffmpeg with an error instead of a hang. */
  timeoutMs: number;
  /**
   * fast (default): stop probing after 200 ms of stream. Enough when the SDP carries the SPS/PPS
   * (sprop-parameter-sets), as nearly every camera's does; 'thorough' is the retry for one whose first
   * start failed for want of codec parameters.
   */
  probe?: 'fast' | 'thorough';
}

export function inputArgs(o: InputOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-user_agent',
    `${USER_AGENT_PREFIX}/${o.tag}`,
    '-rtsp_transport',
    o.transport,
    // ffmpeg ≥ 5: the RTSP demuxer's socket timeout in µs (was -stimeout before 5.0).
    '-timeout',
    String(o.timeoutMs * 1000),
    // Probing is most of the time to first frame: ffmpeg reads analyzeduration of stream before writing
    // anything (measured on a 1080p source: default 5 s → ~1.2 s to first byte, 200 ms → ~0.4 s).
    // Not -fflags nobuffer: with it ffmpeg 5.1 took ~1.3 s longer to first byte here.
    ...(o.probe === 'thorough'
      ? ['-probesize', '5000000', '-analyzeduration', '2000000']
      : ['-probesize', '1000000', '-analyzeduration', '200000']),
    '-i',
    o.url,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
  ];
}

export function outputArgs(mode: OutputMode): string[] {
  if (mode === 'passthrough') {
    return [
      '-c:v',
      'copy',
      // One fragment per frame (frag_every_frame) keeps latency at one frame instead of one GOP;
      // fragments that start with a keyframe are found from the trun sample flags (mp4-fragments.ts).
      // empty_moov puts ftyp+moov first (the init segment); default_base_moof is what MSE expects.
      '-f',
      'mp4',
      '-movflags',
      'frag_keyframe+empty_moov+default_base_moof+frag_every_frame',
      '-flush_packets',
      '1',
      'pipe:1',
    ];
  }
  return [
    // JSMpeg's wire format: MPEG-TS with MPEG-1 video, no B-frames, capped at 1280 wide (JSMpeg decodes
    // on the browser's CPU), at a frame rate MPEG-1 allows.
    '-c:v',
    'mpeg1video',
    '-b:v',
    '1500k',
    '-maxrate',
    '1500k',
    '-bufsize',
    '1500k',
    '-bf',
    '0',
    '-g',
    '25',
    '-vf',
    "scale='min(1280,iw)':-2",
    '-r',
    '25',
    '-f',
    'mpegts',
    '-muxdelay',
    '0.001',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

export function snapshotFromRtspArgs(o: InputOptions): string[] {
  return [...inputArgs(o), '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'];
}

/** Decode one frame from bytes we already hold (the live stream's init segment + GOP), fed on stdin. */
export function snapshotFromPipeArgs(format: 'mp4' | 'mpegts', tag: string): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-f',
    format,
    '-i',
    'pipe:0',
    '-frames:v',
    '1',
    '-f',
    'image2',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    '-metadata',
    `comment=${USER_AGENT_PREFIX}/${tag}`,
    'pipe:1',
  ];
}

// util-linux setpriv sets PR_SET_PDEATHSIG before exec'ing ffmpeg: the kernel sends ffmpeg SIGKILL when
// our process dies, even by SIGKILL, so no ffmpeg is ever orphaned. prctl(2): the signal is sent when the
// parent *thread* exits; libuv spawns from the event-loop thread, which lives as long as the process.
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = process.platform === 'linux' && existsSync(SETPRIV);

export function spawnFfmpeg(
  spawn: typeof spawnFn,
  ffmpegPath: string,
  args: string[],
  stdin: 'ignore' | 'pipe' = 'ignore',
): ChildProcess {
  const [cmd, argv] = hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ffmpegPath, ...args]] : [ffmpegPath, args];
  return spawn(cmd, argv, { stdio: [stdin, 'pipe', 'pipe'] });
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves on exit. */
export function stopProcess(child: ChildProcess, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
