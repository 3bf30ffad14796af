/**
 * A throwaway Mosquitto (Debian's /usr/sbin/mosquitto) for external-broker tests: a temp config with one
 * listener on 127.0.0.1 and a free port, anonymous clients allowed (authentication is the broker's job in
 * that mode, see docs/ingest.md), queues large enough that a stopped ingest process loses nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../harness/ports.ts';

export interface MosquittoHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startMosquitto(): Promise<MosquittoHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'onegrid-mosq-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // A persistent session's queue must hold what arrives while its ingest process is down.
      'max_queued_messages 0',
      'max_queued_bytes 0',
      // In-flight to a client: bounded by the client's own Receive Maximum (MQTT 5), not by the broker.
      'max_inflight_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const bin = '/usr/sbin/mosquitto';
  const proc: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`mosquitto exited unexpectedly (code ${code}, signal ${signal}): ${err}\n`);
  });
  let stopping = false;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      stopping = true;
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
