/**
 * The bus: how one process's news (a case changed, a device went offline) reaches every web instance.
 * Embedded: in process. Scaled (MQTT_URL): the broker's topics — every instance publishes to and
 * subscribes on `onegrid/bus/#` (DESIGN.md: the broker that takes device traffic also fans out cases).
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../log.ts';

export interface Bus {
  publish(channel: string, msg: object): void;
  subscribe(channel: string, fn: (msg: Record<string, unknown>) => void): () => void;
  close(): Promise<void>;
}

export function localBus(): Bus {
  const ee = new EventEmitter();
  ee.setMaxListeners(0);
  return {
    publish(channel, msg) {
      ee.emit(channel, msg);
    },
    subscribe(channel, fn) {
      ee.on(channel, fn);
      return () => ee.off(channel, fn);
    },
    async close() {
      ee.removeAllListeners();
    },
  };
}

const PREFIX = 'onegrid/bus/';

export async function mqttBus(url: string, log: Logger, clientId: string): Promise<Bus> {
  const local = localBus();
  const client: MqttClient = mqtt.connect(url, { clientId, protocolVersion: 5, reconnectPeriod: 1000 });
  client.on('error', (e) => log.warn({ err: e.message }, 'bus client error'));
  client.on('message', (topic, payload) => {
    if (!topic.startsWith(PREFIX)) return;
    try {
      local.publish(topic.slice(PREFIX.length), JSON.parse(payload.toString('utf8')));
    } catch (e) {
      log.warn({ topic, err: (e as Error).message }, 'bad bus message dropped');
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(PREFIX + '#', { qos: 0 });
  return {
    publish(channel, msg) {
      client.publish(PREFIX + channel, JSON.stringify(msg), { qos: 0 });
    },
    subscribe: local.subscribe,
    async close() {
      await client.endAsync();
      await local.close();
    },
  };
}
