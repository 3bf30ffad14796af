/**
 * `node --import tsx edge/cli.ts`: run a pole gateway that reads local devices' messages as JSON lines
 * on stdin (e.g. piped from a serial or Modbus reader) and forwards them durably to the platform.
 * Environment: EDGE_MQTT_URL, EDGE_GATEWAY_ID, EDGE_SECRET, EDGE_OUTBOX_DIR (default ./edge-outbox).
 * Each line: {"device": "smk-0001", "kind": "telemetry", "metrics": {"temp_c": 21.5}} or
 *            {"device": "smk-0001", "kind": "event", "type": "smoke_alarm", "severity": "major"}.
 */
import { createInterface } from 'node:readline';
import { EdgeGateway } from './gateway.ts';

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`edge: ${name} is required\n`);
    process.exit(78);
  }
  return v;
}

const gw = new EdgeGateway({
  url: need('EDGE_MQTT_URL'),
  gatewayId: need('EDGE_GATEWAY_ID'),
  secret: need('EDGE_SECRET'),
  outboxDir: process.env.EDGE_OUTBOX_DIR ?? './edge-outbox',
  log: (m) => process.stderr.write(`edge: ${m}\n`),
});
const rl = createInterface({ input: process.stdin });
let line = 0;
rl.on('line', (text) => {
  line++;
  if (!text.trim()) return;
  try {
    gw.accept(JSON.parse(text));
  } catch (e) {
    // A bad line is reported and skipped; the stream goes on.
    process.stderr.write(`edge: line ${line} rejected: ${(e as Error).message}\n`);
  }
});
const stop = () => void gw.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
