/**
 * External broker mode (MQTT_URL): ingest is an MQTT 5 client of Mosquitto / EMQX, sharing the load with
 * other ingest processes through `$share/ingest/…` subscriptions (MQTT 5 §4.8.2), at QoS 1, with a
 * persistent session (clean start off, Session Expiry Interval set) so that the messages a killed process
 * had not acknowledged are delivered again when it comes back.
 *
 * Acknowledge after commit: mqtt.js 5 processes incoming packets one at a time and sends the PUBACK when
 * `handleMessage`'s callback is called (lib/handlers/publish.js); holding that callback until the batch
 * commits would serialise the stream to one message per commit (MQTT.js issues #691, #425). So the
 * callback is called at once, the PUBACK mqtt.js then wants to send is held back (an instance override of
 * its `_sendPacket`), and we send it ourselves when the message's batch committed. The number of messages
 * the broker has in flight to us is bounded by our Receive Maximum (MQTT 5 §3.1.2.11.3): that bounds memory
 * and is the backpressure when the database is slow or down.
 */
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../log.ts';
import { SERVICE_ID } from '../broker/auth.ts';

/**
 * The client id of a OneGrid process at the broker: `_onegrid:{suffix}` (the client-id rule of
 * ingest/broker/auth.ts: the service principal's id, `:`, 1–64 of `A-Za-z0-9._-`). Default suffix for
 * ingest: `ingest-{hostname}` (cleaned and shortened to fit).
 */
export function serviceClientId(suffix?: string | null): string {
  const s = suffix ?? `ingest-${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
  return `${SERVICE_ID}:${s}`;
}

export interface ExternalOptions {
  /**
   * Client id; must be stable across restarts so that the session (and its unacknowledged messages) resumes,
   * and distinct per process (a second connection with the same id takes the session over). Default:
   * `serviceClientId()` = `_onegrid:ingest-{hostname}` — one ingest process per host (container); set
   * INGEST_ID (the suffix) when running several.
   */
  clientId?: string;
  /** Shared-subscription group name. */
  group?: string;
  /** Most unacknowledged messages the broker may have in flight to this process. */
  receiveMaximum?: number;
  /** Session Expiry Interval, seconds. */
  sessionExpirySeconds?: number;
}

export const EXTERNAL_TOPICS = ['dev/+/telemetry', 'dev/+/event', 'dev/+/status', 'frigate/events'];

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export async function connectExternalBroker(
  url: string,
  opts: ExternalOptions,
  h: { log: Logger; onMessage(topic: string, payload: Buffer, ack: (err?: Error | null) => void): void },
): Promise<{ client: MqttClient; end(): Promise<void> }> {
  const group = opts.group ?? 'ingest';
  const clientId = opts.clientId ?? serviceClientId();
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    properties: {
      sessionExpiryInterval: opts.sessionExpirySeconds ?? 3600,
      receiveMaximum: opts.receiveMaximum ?? 2000,
    },
  };
  const client = mqtt.connect(url, options);
  // Which connection a held PUBACK belongs to: after a reconnect the broker redelivers what was unacked,
  // so PUBACKs owed on an older connection are dropped (the redelivery is stored once, by (device, seq)).
  let generation = 0;
  const held = new Set<number>();
  const c = client as unknown as { _sendPacket: SendPacket };
  const send: SendPacket = c._sendPacket.bind(client);
  c._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback' && packet.messageId !== undefined && held.delete(packet.messageId)) {
      cb?.();
      return;
    }
    send(packet, cb, ...rest);
  };
  client.handleMessage = (packet, callback) => {
    if (packet.cmd !== 'publish') return callback();
    const gen = generation;
    const { messageId, qos } = packet;
    if (qos === 1 && messageId !== undefined) held.add(messageId);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    h.onMessage(packet.topic, payload, (err) => {
      if (err || qos !== 1 || messageId === undefined) return;
      if (gen !== generation || !client.connected) return;
      send({ cmd: 'puback', messageId, reasonCode: 0 } as Packet);
    });
    callback();
  };
  client.on('error', (e) => h.log.warn({ err: e.message }, 'external mqtt error'));
  client.on('close', () => {
    generation++;
    held.clear();
  });

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => {
      client.removeListener('connect', onConn);
      reject(e);
    };
    const onConn = () => {
      client.removeListener('error', onErr);
      resolve();
    };
    client.once('connect', onConn);
    client.once('error', onErr);
  });
  const subscribe = async () => {
    await client.subscribeAsync(
      EXTERNAL_TOPICS.map((t) => `$share/${group}/${t}`),
      { qos: 1 },
    );
  };
  await subscribe();
  client.on('connect', (ack) => {
    // A resumed session keeps its subscriptions; a new one (expired) needs them again.
    if (!ack.sessionPresent) subscribe().catch((e) => h.log.warn({ err: e.message }, 'resubscribe failed'));
  });
  h.log.info({ url: url.replace(/\/\/[^@/]*@/, '//***@'), clientId, group }, 'ingest connected to external broker');
  return {
    client,
    async end() {
      await client.endAsync(false);
    },
  };
}
