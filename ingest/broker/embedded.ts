/**
 * The embedded broker: aedes on MQTT_PORT (TCP), on MQTTS_PORT (TLS) when a certificate and key are
 * configured, and MQTT over WebSocket (upgrade handled by the HTTP server at /mqtt; WSS when that server
 * is HTTPS). Authentication and ACL are plain functions passed in (aedes' own pattern).
 *
 * Protocol: aedes 1.2 speaks MQTT 3.1 and 3.1.1 only. An MQTT 5 CONNECT is answered with a 3.1.1 CONNACK
 * with return code 1, "unacceptable protocol version" (MQTT 3.1.1 §3.2.2.3; MQTT 5 §3.1.4 lets a server
 * answer so). MQTT 5 fleets use an external broker (MQTT_URL).
 */
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../log.ts';

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  /** The MQTTS (TLS) port; null when TLS is not configured. */
  readonly tlsPort: number | null;
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

/**
 * Longest keep-alive a client gets, seconds. MQTT 3.1.1 §3.1.2.10: the server closes a connection that is
 * silent for 1.5 × keep-alive; keep-alive 0 turns that off, so a half-open connection (a device that lost
 * power) would hold its session and client id forever. A CONNECT with keep-alive 0 or above this cap is
 * accepted and held to the cap: such a client is disconnected after 1.5 × 1,200 s = 30 min of silence.
 */
export const MAX_KEEPALIVE_S = 1200;

/** aedes `preConnect`: hold keep-alive to MAX_KEEPALIVE_S (0 counts as "no limit" and is capped too). */
export function capKeepalive(
  maxS: number,
): (client: unknown, packet: { keepalive?: number }, cb: (err: Error | null, ok: boolean) => void) => void {
  return (_client, packet, cb) => {
    if (!packet.keepalive || packet.keepalive > maxS) packet.keepalive = maxS;
    cb(null, true);
  };
}

async function listen(server: Server | TlsServer, port: number, host: string | undefined): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : port;
}

export async function startEmbeddedBroker(opts: {
  port: number;
  host?: string;
  log: Logger;
  aedes?: AedesOptions;
  /** Larger MQTT packets close the connection (default MAX_PACKET_BYTES). */
  maxPacketBytes?: number;
  /** MQTT over TLS on `tls.port` (PEM certificate chain and key). */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer } | null;
  /** Keep-alive cap, seconds (default MAX_KEEPALIVE_S). */
  maxKeepaliveS?: number;
}): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    preConnect: capKeepalive(opts.maxKeepaliveS ?? MAX_KEEPALIVE_S) as AedesOptions['preConnect'],
    ...opts.aedes,
  });
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
  const port = await listen(tcp, opts.port, opts.host);
  let tls: TlsServer | null = null;
  let tlsPort: number | null = null;
  if (opts.tls) {
    tls = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, (socket) => {
      socket.setNoDelay(true);
      aedes.handle(socket);
      limitPacketSize(socket, maxPacket);
    });
    // A failed handshake (plain MQTT on the TLS port, a scanner) is that socket's error, not the server's.
    tls.on('tlsClientError', (err) => opts.log.debug({ err: err.message }, 'mqtts handshake failed'));
    tlsPort = await listen(tls, opts.tls.port, opts.host);
  }
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: maxPacket + 16 });
  return {
    aedes,
    port,
    tlsPort,
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
      const listening = [tcp, tls].map((srv) => (srv ? new Promise<void>((r) => srv.close(() => r())) : null));
      await new Promise<void>((r) => aedes.close(() => r()));
      await Promise.all(listening);
    },
  };
}
