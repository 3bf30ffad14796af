/**
 * The embedded broker: aedes on MQTT_PORT (TCP) and MQTT over WebSocket (upgrade handled by the HTTP
 * server at /mqtt). Authentication and ACL are plain functions passed in (aedes' own pattern).
 */
import { createServer, type Server } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../log.ts';

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

/**
 * Hard limit on one MQTT packet, bytes. aedes has no packet-size option and its parser (mqtt-packet) buffers a
 * whole packet before anyone sees it, so without a limit one client could make the broker hold up to the
 * protocol's 256 MB. Payloads between the contract's 256 KiB and this limit reach the consumer and are
 * rejected there as `too_large` with the connection kept; beyond it the connection is closed.
 */
export const MAX_PACKET_BYTES = 1024 * 1024;

/** Make the client's MQTT parser refuse a packet whose Remaining Length (MQTT 3.1.1 §2.2.3) is over max. */
function limitPacketSize(conn: object, max: number): void {
  type P = { _parseLength(): boolean; _emitError(e: Error): void; packet: { length: number } };
  const parser = (conn as { client?: { _parser?: P } }).client?._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const parseLength = parser._parseLength;
  parser._parseLength = function (this: P) {
    const ok = parseLength.call(this);
    if (ok && this.packet.length > max) {
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds ${max}`));
      return false;
    }
    return ok;
  };
}

export async function startEmbeddedBroker(opts: {
  port: number;
  host?: string;
  log: Logger;
  aedes?: AedesOptions;
  /** Larger MQTT packets close the connection (default MAX_PACKET_BYTES). */
  maxPacketBytes?: number;
}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({ ...opts.aedes });
  aedes.on('clientError', (client, err) =>
    opts.log.debug({ client: client?.id, err: err.message }, 'mqtt client error'),
  );
  aedes.on('connectionError', (client, err) =>
    opts.log.debug({ client: client?.id, err: err.message }, 'mqtt connection error'),
  );
  // No Nagle: PUBACKs are small writes sent after a commit; with Nagle and the peer's delayed ACK each could
  // wait up to ~40 ms (RFC 896 / RFC 1122 §4.2.3.2), which is most of a 50 ms p99 budget.
  const maxPacket = opts.maxPacketBytes ?? MAX_PACKET_BYTES;
  const tcp: Server = createServer({ noDelay: true }, (socket) => {
    aedes.handle(socket);
    limitPacketSize(socket, maxPacket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.host, () => resolve());
  });
  const addr = tcp.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: maxPacket + 16 });
  return {
    aedes,
    port,
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        aedes.handle(stream as never, req as never);
        limitPacketSize(stream, maxPacket);
      });
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      // net.Server#close waits for open connections to end, and aedes#close is what ends them: stop
      // listening first, close aedes (it disconnects every client), then wait for the server.
      const listening = new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      await listening;
    },
  };
}
