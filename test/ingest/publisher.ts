/**
 * A load generator in its own process (so that it does not share the broker's event loop): N MQTT clients
 * publishing `dev/{id}/telemetry` at QoS 1, each with a bounded window of unacknowledged messages, either
 * as fast as acknowledgements allow or at a fixed total rate. Reports one JSON line on stdout:
 * `{ published, acked, ms, latency: { p50, p99, max } }`, latency being publish → PUBACK, which the
 * ingest sends only after the message's batch committed (so it bounds publish-to-stored).
 *
 * Usage: node --import tsx test/ingest/publisher.ts '<json config>'  (see PublisherConfig)
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface PublisherConfig {
  url: string;
  /** One connection per entry; `topicIds` are the device ids it publishes for (round robin). */
  clients: { username?: string; password?: string; topicIds: string[] }[];
  /** Messages in total. */
  total: number;
  /** Total messages per second; 0 = as fast as the windows allow. */
  rate: number;
  /** Unacknowledged messages per connection. */
  window: number;
  /** seq numbers start here (distinct runs stay distinct). */
  seqBase: number;
  /** Same seq (and ts) twice = a redelivery; for tests of duplicates. */
  protocolVersion?: 4 | 5;
  /** Stop publishing after this many ms even if total not reached (rate mode). */
  maxMs?: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function publish(cfg: PublisherConfig): Promise<{
  published: number;
  acked: number;
  ms: number;
  latency: { p50: number; p99: number; max: number };
}> {
  const clients: MqttClient[] = await Promise.all(
    cfg.clients.map(
      (c, i) =>
        new Promise<MqttClient>((resolve, reject) => {
          const cl = mqtt.connect(cfg.url, {
            clientId: `${c.username ?? 'anon'}:pub-${process.pid}-${i}`,
            username: c.username,
            password: c.password,
            protocolVersion: cfg.protocolVersion ?? 4,
            reconnectPeriod: 1000,
            clean: true,
            connectTimeout: 20_000,
          });
          cl.once('connect', () => {
            (cl.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
            resolve(cl);
          });
          cl.once('error', reject);
        }),
    ),
  );
  for (const c of clients) c.on('error', () => {});
  const lat = new Float64Array(cfg.total);
  let published = 0;
  let acked = 0;
  let nLat = 0;
  const t0 = performance.now();
  const T0 = 1_764_000_000_000;
  const send = (ci: number, seq: number, done: () => void) => {
    const c = cfg.clients[ci];
    const id = c.topicIds[seq % c.topicIds.length];
    const start = performance.now();
    const payload = `{"ts":${T0 + seq},"seq":${seq},"metrics":{"temp_c":${(seq % 400) / 10},"rh":${seq % 100}}}`;
    published++;
    clients[ci].publish(`dev/${id}/telemetry`, payload, { qos: 1 }, (err) => {
      if (!err) {
        acked++;
        lat[nLat++] = performance.now() - start;
      }
      done();
    });
  };
  let nextSeq = cfg.seqBase;
  const end = cfg.seqBase + cfg.total;
  if (cfg.rate <= 0) {
    await Promise.all(
      clients.map(
        (_, ci) =>
          new Promise<void>((resolve) => {
            let inflight = 0;
            const pump = () => {
              while (inflight < cfg.window && nextSeq < end) {
                inflight++;
                send(ci, nextSeq++, () => {
                  inflight--;
                  pump();
                });
              }
              if (inflight === 0 && nextSeq >= end) resolve();
            };
            pump();
          }),
      ),
    );
  } else {
    // Fixed rate: every tick, send what the schedule says is due, spread over the connections.
    const inflight = new Array(clients.length).fill(0);
    const maxMs = cfg.maxMs ?? Infinity;
    await new Promise<void>((resolve) => {
      let ci = 0;
      const tick = () => {
        const el = performance.now() - t0;
        const due = Math.min(end, cfg.seqBase + Math.floor((el / 1000) * cfg.rate));
        while (nextSeq < due && el < maxMs) {
          // Skip a connection whose window is full (its messages wait: the schedule is held).
          let tries = 0;
          while (inflight[ci] >= cfg.window && tries++ < clients.length) ci = (ci + 1) % clients.length;
          if (inflight[ci] >= cfg.window) break;
          const k = ci;
          inflight[k]++;
          send(k, nextSeq++, () => {
            inflight[k]--;
            if (nextSeq >= end && acked + (published - acked) === published && inflight.every((x) => x === 0))
              resolve();
          });
          ci = (ci + 1) % clients.length;
        }
        if ((nextSeq >= end || el >= maxMs) && inflight.every((x) => x === 0)) return resolve();
        setTimeout(tick, 2);
      };
      tick();
    });
  }
  const ms = performance.now() - t0;
  await Promise.all(clients.map((c) => c.endAsync()));
  const sorted = lat.slice(0, nLat).sort();
  return {
    published,
    acked,
    ms,
    latency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const cfg = JSON.parse(process.argv[2]) as PublisherConfig;
  publish(cfg)
    .then((r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    })
    .catch((e) => {
      process.stderr.write(String(e?.stack ?? e) + '\n');
      process.exit(1);
    });
}
