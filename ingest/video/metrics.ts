// The relay's /metrics: viewers, ffmpeg processes, restarts, bytes out. Labelled by output mode only
// (a label per camera would grow without bound on a city's worth of cameras).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface VideoMetrics {
  viewers: Gauge<'mode'>;
  ffmpeg: Gauge<'mode'>;
  restarts: Counter<'mode'>;
  bytesOut: Counter<'mode'>;
  skipped: Counter<'mode'>;
  dropped: Counter<'mode'>;
}

function metric<T>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  const existing = registry?.getSingleMetric(name);
  return (existing as T | undefined) ?? make(registry ? [registry] : []);
}

export function createVideoMetrics(registry?: Registry): VideoMetrics {
  const labelNames = ['mode'] as const;
  return {
    viewers: metric(
      registry,
      'onegrid_video_viewers',
      (registers) =>
        new Gauge({
          name: 'onegrid_video_viewers',
          help: 'WebSocket viewers connected to the video relay',
          labelNames,
          registers,
        }),
    ),
    ffmpeg: metric(
      registry,
      'onegrid_video_ffmpeg_processes',
      (registers) =>
        new Gauge({
          name: 'onegrid_video_ffmpeg_processes',
          help: 'ffmpeg processes relaying a camera',
          labelNames,
          registers,
        }),
    ),
    restarts: metric(
      registry,
      'onegrid_video_restarts_total',
      (registers) =>
        new Counter({
          name: 'onegrid_video_restarts_total',
          help: 'ffmpeg restarts after a camera dropped or failed',
          labelNames,
          registers,
        }),
    ),
    bytesOut: metric(
      registry,
      'onegrid_video_bytes_out_total',
      (registers) =>
        new Counter({
          name: 'onegrid_video_bytes_out_total',
          help: 'video bytes sent to viewers',
          labelNames,
          registers,
        }),
    ),
    skipped: metric(
      registry,
      'onegrid_video_fragments_skipped_total',
      (registers) =>
        new Counter({
          name: 'onegrid_video_fragments_skipped_total',
          help: 'fragments not sent to a slow viewer (it resumes at the next keyframe)',
          labelNames,
          registers,
        }),
    ),
    dropped: metric(
      registry,
      'onegrid_video_viewers_dropped_total',
      (registers) =>
        new Counter({
          name: 'onegrid_video_viewers_dropped_total',
          help: 'viewers disconnected for staying too far behind',
          labelNames,
          registers,
        }),
    ),
  };
}
