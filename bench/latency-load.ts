/**
 * Background telemetry for the latency benchmark, in its own process so that its publishing does not share
 * the measuring process's event loop: `CONNS` sensor connections together publish `RATE` telemetry messages
 * per second (QoS 1, ticks of 10 ms) until stopped. Credentials come as JSON in LOAD_DEVICES
 * ([{id, secret}]). Prints one JSON line per second: {"sent", "acked", "rate"}.
 */
import mqtt, { type MqttClient } from 'mqtt';

const url = process.env.LOAD_MQTT_URL!;
const rate = Number(process.env.LOAD_RATE ?? 5000);
const devices = JSON.parse(process.env.LOAD_DEVICES ?? '[]') as { id: string; secret: string }[];

const clients: { c: MqttClient; id: string; seq: number }[] = [];
for (const d of devices) {
  const c = mqtt.connect(url, {
    clientId: d.id,
    username: d.id,
    password: d.secret,
    protocolVersion: 4,
    reconnectPeriod: 1000,
  });
  c.on('error', () => {});
  await new Promise<void>((res) => c.once('connect', () => res()));
  clients.push({ c, id: d.id, seq: 0 });
}

let sent = 0;
let acked = 0;
let inflight = 0;
const MAX_INFLIGHT = 20_000;
const t0 = performance.now();
let due = 0;
let i = 0;
const tick = setInterval(() => {
  due += rate / 100;
  while (due >= 1) {
    due -= 1;
    if (inflight >= MAX_INFLIGHT) continue; // the platform falls behind: do not queue without bound
    const k = clients[i++ % clients.length];
    k.seq += 1;
    inflight++;
    sent++;
    k.c.publish(
      `dev/${k.id}/telemetry`,
      JSON.stringify({ ts: Date.now(), seq: k.seq, metrics: { temp_c: 20 + (k.seq % 5), humidity_pct: 40 } }),
      { qos: 1 },
      () => {
        inflight--;
        acked++;
      },
    );
  }
}, 10);

const report = setInterval(() => {
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ sent, acked, rate: acked / s, inflight }) + '\n');
}, 1000);

process.on('SIGTERM', () => {
  clearInterval(tick);
  clearInterval(report);
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ sent, acked, rate: acked / s, inflight, final: true }) + '\n');
  for (const k of clients) k.c.end(true);
  setTimeout(() => process.exit(0), 100);
});
