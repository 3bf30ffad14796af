import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import { EdgeGateway } from './gateway.ts';
import { Outbox } from './outbox.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function broker(port = 0): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const received: string[] = [];
  aedes.on('publish', (p, client) => {
    if (client && p.topic.endsWith('/telemetry')) received.push(`${p.topic} ${p.payload.toString()}`);
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    received,
    close: () =>
      new Promise<void>((r) => {
        for (const c of Object.values(
          (aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients,
        ))
          c.conn.destroy();
        server.close(() => aedes.close(() => r()));
      }),
  };
}

const waitFor = async (f: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('edge gateway', () => {
  it('keeps messages through a broker outage and a gateway restart, with unique sequence numbers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edge-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const b1 = await broker();
    const port = b1.port;
    let gw = new EdgeGateway({ url: `mqtt://127.0.0.1:${port}`, gatewayId: 'gw-1', secret: 's', outboxDir: dir });
    for (let i = 0; i < 50; i++) gw.accept({ device: 'smk-1', kind: 'telemetry', ts: 1, metrics: { n: i } });
    await waitFor(() => b1.received.length === 50 && gw.pending === 0);
    await b1.close();
    // Broker down: accepted messages wait in the outbox, on disk.
    for (let i = 50; i < 120; i++) gw.accept({ device: 'smk-1', kind: 'telemetry', ts: 1, metrics: { n: i } });
    expect(gw.pending).toBe(70);
    await gw.close();
    // The gateway restarts (new process, same outbox) and the broker comes back on the same port.
    const b2 = await broker(port);
    cleanup.push(() => b2.close());
    gw = new EdgeGateway({ url: `mqtt://127.0.0.1:${port}`, gatewayId: 'gw-1', secret: 's', outboxDir: dir });
    cleanup.push(() => gw.close());
    await waitFor(() => gw.pending === 0);
    const ns = b2.received.map((r) => JSON.parse(r.split(' ')[1]).metrics.n);
    expect(ns).toEqual(Array.from({ length: 70 }, (_, i) => i + 50));
    const seqs = [...b1.received, ...b2.received].map((r) => JSON.parse(r.split(' ')[1]).seq);
    expect(new Set(seqs).size).toBe(120);
    gw.accept({ device: 'smk-1', kind: 'telemetry', metrics: { n: 999 } });
    await waitFor(() => b2.received.length === 71);
    expect(JSON.parse(b2.received[70].split(' ')[1]).seq).toBe(121);
  });

  it('refuses malformed local messages and goes on', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edge-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ob = new Outbox(dir);
    cleanup.push(() => ob.close());
    const gw = new EdgeGateway({
      url: 'mqtt://127.0.0.1:1',
      gatewayId: 'gw-2',
      secret: 's',
      outboxDir: path.join(dir, 'g'),
    });
    cleanup.push(() => gw.close());
    expect(() => gw.accept({ device: '../x', kind: 'telemetry', metrics: {} })).toThrow(/device id/);
    expect(() => gw.accept({ device: 'a', kind: 'telemetry', metrics: {}, loc: [500, 0] })).toThrow(/loc/);
    gw.accept({ device: 'a', kind: 'event', type: 'smoke_alarm' });
    expect(gw.pending).toBe(1);
  });

  it('acknowledges only a contiguous prefix', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edge-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ob = new Outbox(dir);
    ob.append([0, 1, 2].map((i) => ({ topic: 'dev/a/telemetry', payload: JSON.stringify({ seq: i + 1 }) })));
    ob.ack(1);
    expect(ob.pendingCount).toBe(3);
    ob.ack(0);
    expect(ob.pendingCount).toBe(1);
    ob.close();
    const again = new Outbox(dir);
    expect(again.pending().map((p) => p.index)).toEqual([2]);
    expect(again.nextSeq('a')).toBe(4);
    again.close();
  });
});
