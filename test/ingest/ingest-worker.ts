/**
 * One ingest process in external-broker mode, for tests and the benchmark: opens PostgreSQL, migrates,
 * and consumes `$share/ingest/…` from the broker. Prints `ready` when subscribed; on SIGTERM drains and
 * prints `{"stored": n}`. Usage: node --import tsx test/ingest/ingest-worker.ts DATABASE_URL MQTT_URL CLIENT_ID
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { openPostgres } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { createIngest } from '../../ingest/consumer/index.ts';
import { gridStub } from './helpers.ts';

const [databaseUrl, mqttUrl, clientId] = process.argv.slice(2);
const db = await openPostgres(databaseUrl, 4);
await migrate(db);
const registry = new Registry();
const ingest = createIngest({
  db,
  grids: gridStub,
  log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }),
  registry,
  options: { rejectFlushMs: 100 },
});
await ingest.connectExternal(mqttUrl, { clientId });
process.stdout.write('ready\n');

const stored = async () => {
  const m = await registry.getSingleMetric('onegrid_mqtt_messages_stored_total')!.get();
  return m.values.reduce((s, v) => s + v.value, 0);
};
process.on('SIGTERM', () => {
  void (async () => {
    await ingest.stop();
    process.stdout.write(JSON.stringify({ stored: await stored() }) + '\n');
    await db.close();
    process.exit(0);
  })();
});
