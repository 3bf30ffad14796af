// A current JPEG of a camera: decoded from the live stream's bytes when it is running (no second
// connection to the camera), otherwise grabbed from the camera with one ffmpeg run.
import type { ChildProcess, spawn as spawnFn } from 'node:child_process';
import { DomainError } from '../../core/errors.ts';
import { spawnFfmpeg } from './ffmpeg.ts';
import { redactForBrowser } from './redact.ts';

const SOI = 0xffd8; // JPEG start of image

export function runSnapshot(
  spawn: typeof spawnFn,
  ffmpegPath: string,
  args: string[],
  stdinData: Buffer | null,
  timeoutMs: number,
  cameraId: string,
  /** Called with the ffmpeg process, so that close() can kill snapshots in flight. */
  onSpawn?: (proc: ChildProcess) => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const proc = spawnFfmpeg(spawn, ffmpegPath, args, stdinData ? 'pipe' : 'ignore');
    onSpawn?.(proc);
    const out: Buffer[] = [];
    let err = '';
    let done = false;
    const finish = (e: Error | null, jpeg?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      if (e) reject(e);
      else resolve(jpeg!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new DomainError('unprocessable', `snapshot of camera ${cameraId} timed out after ${timeoutMs} ms`, {
            reason: 'snapshot_timeout',
          }),
        ),
      timeoutMs,
    );
    proc.stdout!.on('data', (d: Buffer) => out.push(d));
    proc.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    proc.on('error', (e) =>
      finish(
        new DomainError('unprocessable', `cannot start ffmpeg: ${redactForBrowser(e.message)}`, {
          reason: 'snapshot_failed',
        }),
      ),
    );
    proc.on('close', (code) => {
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 2 && jpeg.readUInt16BE(0) === SOI) return finish(null, jpeg);
      // The message reaches the browser (422 from /api/cameras/{id}/snapshot): no camera address in it.
      const last = redactForBrowser(err.trim().split('\n').pop() ?? '').replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '');
      finish(
        new DomainError(
          'unprocessable',
          `snapshot of camera ${cameraId} failed: ${last || `ffmpeg exited with ${code}`}`,
          { reason: 'snapshot_failed' },
        ),
      );
    });
    if (stdinData) {
      proc.stdin!.on('error', () => {}); // ffmpeg may close stdin once it has its frame
      proc.stdin!.end(stdinData);
    }
  });
}
