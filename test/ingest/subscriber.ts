/**
 * A QoS 1 subscriber in its own process, for the pass-through baseline of bench/ingest.ts: subscribes,
 * prints `ready`, counts messages, and prints `{"got": n, "lastAt": epoch ms}` when it has `total` or after
 * `maxMs`. Usage: node --import tsx test/ingest/subscriber.ts URL FILTER TOTAL MAXMS
 */
import mqtt from 'mqtt';

const [url, filter, totalS, maxMsS] = process.argv.slice(2);
const total = Number(totalS);
const c = await mqtt.connectAsync(url, { clientId: `sub-${process.pid}`, clean: true });
(c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
let got = 0;
let lastAt = 0;
const done = () => {
  process.stdout.write(JSON.stringify({ got, lastAt }) + '\n');
  process.exit(0);
};
c.on('message', () => {
  got++;
  lastAt = Date.now();
  if (got >= total) done();
});
await c.subscribeAsync(filter, { qos: 1 });
process.stdout.write('ready\n');
setTimeout(done, Number(maxMsS)).unref();
setInterval(() => {}, 1 << 30);
