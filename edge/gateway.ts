/**
 * The pole gateway: gathers local devices' readings and events, keeps them in a durable outbox, and
 * forwards them to the platform over MQTT as their gateway (CONTRACT.md MQTT v1: a gateway may publish
 * for its registered children), QoS 1, in order. Imports only core's message schemas, so it bundles
 * into one small file for a pole.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { MAX_PAYLOAD_BYTES, validLngLat } from '../core/schemas/index.ts';
import { Outbox } from './outbox.ts';

export interface GatewayOptions {
  url: string; // mqtt:// or mqtts:// of the platform's broker
  gatewayId: string;
  secret: string;
  outboxDir: string;
  /** Messages in flight at once (default 100). */
  window?: number;
  log?: (msg: string) => void;
}

export type LocalMessage =
  | { device: string; kind: 'telemetry'; ts?: number | string; metrics: Record<string, number>; loc?: [number, number] }
  | {
      device: string;
      kind: 'event';
      ts?: number | string;
      type: string;
      severity?: string;
      loc?: [number, number];
      attrs?: Record<string, unknown>;
    };

export class EdgeGateway {
  readonly outbox: Outbox;
  private client: MqttClient;
  private inflight = 0;
  private next = 0; // outbox index to send next
  private closed = false;

  constructor(private readonly opts: GatewayOptions) {
    this.outbox = new Outbox(opts.outboxDir);
    this.client = mqtt.connect(opts.url, {
      clientId: `${opts.gatewayId}:edge`, // the client-id rule: `{id}` or `{id}:{suffix}`
      username: opts.gatewayId,
      password: opts.secret,
      clean: true,
      reconnectPeriod: 2000,
      will: { topic: `dev/${opts.gatewayId}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      opts.log?.(`connected to ${opts.url}; ${this.outbox.pendingCount} message(s) pending`);
      this.client.publish(`dev/${opts.gatewayId}/status`, 'online', { qos: 1, retain: true });
      // Resend everything not acknowledged, from the oldest.
      this.inflight = 0;
      this.next = -1;
      this.pump();
    });
    this.client.on('error', (e) => opts.log?.(`mqtt: ${e.message}`));
  }

  /** Accept a local message: validated, stamped with a sequence number, made durable, then sent. */
  accept(m: LocalMessage): void {
    if (!m || typeof m.device !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(m.device))
      throw new Error('device id missing or malformed');
    if (m.loc && !validLngLat(m.loc)) throw new Error('loc must be [lng, lat] within range');
    const seq = this.outbox.nextSeq(m.device);
    const ts = m.ts ?? Date.now();
    const body =
      m.kind === 'telemetry'
        ? { ts, seq, metrics: m.metrics, ...(m.loc ? { loc: m.loc } : {}) }
        : {
            ts,
            seq,
            type: m.type,
            ...(m.severity ? { severity: m.severity } : {}),
            ...(m.loc ? { loc: m.loc } : {}),
            attrs: m.attrs ?? {},
          };
    const payload = JSON.stringify(body);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error('message larger than 256 KiB');
    this.outbox.append([{ topic: `dev/${m.device}/${m.kind}`, payload }]);
    this.pump();
  }

  private pump(): void {
    if (this.closed || !this.client.connected) return;
    const window = this.opts.window ?? 100;
    const pending = this.outbox.pending(window * 2);
    for (const { index, entry } of pending) {
      if (this.inflight >= window) break;
      if (index <= this.next) continue;
      this.next = index;
      this.inflight++;
      this.client.publish(entry.topic, entry.payload, { qos: 1 }, (err) => {
        this.inflight = Math.max(0, this.inflight - 1);
        if (err) return; // not acknowledged: resent after the reconnect
        this.outbox.ack(index);
        this.pump();
      });
    }
  }

  get pending(): number {
    return this.outbox.pendingCount;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Forced: unacknowledged messages stay in the outbox and are resent next time, so nothing waits here.
    await this.client.endAsync(true);
    this.outbox.close();
  }
}
