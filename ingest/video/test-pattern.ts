// The demo's cameras (DEMO=1): a generated moving test picture with the camera's name and the time, made
// by ffmpeg's lavfi `testsrc2` source and encoded like a camera's stream, so that /video and a case's
// linked cameras play without any RTSP server. Started on demand and shared like any camera
// (camera-stream.ts); only cameras the registry marks simulated get it (ingest/platform.ts getCamera).
import { USER_AGENT_PREFIX, type OutputMode } from './ffmpeg.ts';

/** Frame size and rate of the test picture: small, so that a wall of them costs little CPU. */
export const TEST_PATTERN = { width: 640, height: 360, fps: 15 } as const;

/**
 * The camera's name as drawtext may show it: letters (any script), digits, spaces and a few marks. Quotes,
 * backslashes, `%`, `:` and the filtergraph's separators would need escaping at three levels; a camera
 * name never needs them.
 */
export function drawableText(s: string): string {
  return s.replace(/[^\p{L}\p{N} ._·#()-]/gu, '').slice(0, 60) || 'camera';
}

/**
 * ffmpeg arguments from the lavfi input to stdout in the relay's wire format: fragmented MP4 with
 * H.264 (baseline, one keyframe a second) for `passthrough`, MPEG-TS with MPEG-1 for `mpeg1`. `tag` marks
 * the process as this relay's (a metadata field, as the RTSP User-Agent does for a camera's).
 */
export function testPatternArgs(o: { id: string; name: string; mode: OutputMode; tag: string }): string[] {
  const { width, height, fps } = TEST_PATTERN;
  const label = drawableText(`${o.name} ${o.id}`);
  const box = 'fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6';
  const vf = [
    `drawtext=font='Noto Sans CJK SC':text='${label}':fontsize=26:${box}:x=16:y=16`,
    `drawtext=font='Noto Sans CJK SC':text='模拟 SIMULATED':fontsize=22:${box}:x=w-tw-16:y=16`,
    `drawtext=font='DejaVu Sans Mono':text='%{localtime}':fontsize=22:${box}:x=16:y=h-th-16`,
  ].join(',');
  const input = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}`,
    '-vf',
    vf,
    '-metadata',
    `comment=${USER_AGENT_PREFIX}/${o.tag}`,
    '-an',
  ];
  if (o.mode === 'mpeg1')
    return [
      ...input,
      '-c:v',
      'mpeg1video',
      '-b:v',
      '800k',
      '-bf',
      '0',
      '-g',
      String(fps),
      '-r',
      '25', // a frame rate MPEG-1 allows
      '-f',
      'mpegts',
      '-muxdelay',
      '0.001',
      '-flush_packets',
      '1',
      'pipe:1',
    ];
  return [
    ...input,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(fps),
    '-f',
    'mp4',
    '-movflags',
    'frag_keyframe+empty_moov+default_base_moof+frag_every_frame',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}
