/** Prometheus metrics of the ingest pipeline (prom-client), registered once per registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IngestMetrics {
  messagesIn: Counter;
  messagesStored: Counter;
  rejected: Counter<'reason'>;
  rejectLogDropped: Counter;
  batchSize: Histogram;
  queueDepth: Gauge;
  ackLatency: Histogram;
  batchFailures: Counter;
  handled: Counter<'kind'>;
  metricsSkipped: Counter;
  timeFlags: Counter<'flag'>;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function ingestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    messagesIn: once(
      registry,
      'onegrid_mqtt_messages_in_total',
      () =>
        new Counter({ name: 'onegrid_mqtt_messages_in_total', help: 'MQTT messages received by ingest', registers }),
    ),
    messagesStored: once(
      registry,
      'onegrid_mqtt_messages_stored_total',
      () =>
        new Counter({
          name: 'onegrid_mqtt_messages_stored_total',
          help: 'MQTT messages whose rows committed (then acknowledged)',
          registers,
        }),
    ),
    rejected: once(
      registry,
      'onegrid_mqtt_messages_rejected_total',
      () =>
        new Counter({
          name: 'onegrid_mqtt_messages_rejected_total',
          help: 'MQTT messages rejected, by reason (bad_json, schema, too_large, bad_coordinates, acl, unknown_topic)',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    rejectLogDropped: once(
      registry,
      'onegrid_ingest_reject_log_dropped_total',
      () =>
        new Counter({
          name: 'onegrid_ingest_reject_log_dropped_total',
          help: 'Reject-log rows not written because the log buffer was full (the rejects are still counted)',
          registers,
        }),
    ),
    batchSize: once(
      registry,
      'onegrid_ingest_batch_size',
      () =>
        new Histogram({
          name: 'onegrid_ingest_batch_size',
          help: 'Messages per committed batch',
          buckets: [1, 5, 20, 50, 100, 250, 500, 1000, 2000, 5000],
          registers,
        }),
    ),
    queueDepth: once(
      registry,
      'onegrid_ingest_queue_depth',
      () =>
        new Gauge({
          name: 'onegrid_ingest_queue_depth',
          help: 'Messages received and not yet acknowledged',
          registers,
        }),
    ),
    ackLatency: once(
      registry,
      'onegrid_ingest_ack_latency_seconds',
      () =>
        new Histogram({
          name: 'onegrid_ingest_ack_latency_seconds',
          help: 'From a message received to its acknowledgement (after its batch committed)',
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers,
        }),
    ),
    batchFailures: once(
      registry,
      'onegrid_ingest_batch_failures_total',
      () =>
        new Counter({
          name: 'onegrid_ingest_batch_failures_total',
          help: 'Batch commits that failed and were retried',
          registers,
        }),
    ),
    handled: once(
      registry,
      'onegrid_ingest_handled_total',
      () =>
        new Counter({
          name: 'onegrid_ingest_handled_total',
          help: 'Messages handled without a stored row: kind = nvr_health (frigate/available, /stats), nvr_chatter (retained switches, motion, counts), review (frigate/reviews), duplicate (QoS 1 DUP resend already taken)',
          labelNames: ['kind'],
          registers,
        }),
    ),
    metricsSkipped: once(
      registry,
      'onegrid_ingest_metrics_skipped_total',
      () =>
        new Counter({
          name: 'onegrid_ingest_metrics_skipped_total',
          help: 'Telemetry metrics left out of a stored reading (not a number or boolean)',
          registers,
        }),
    ),
    timeFlags: once(
      registry,
      'onegrid_ingest_time_flags_total',
      () =>
        new Counter({
          name: 'onegrid_ingest_time_flags_total',
          help: 'Readings and events whose device time was implausible: flag = clock_skew (ahead of receipt) or late',
          labelNames: ['flag'],
          registers,
        }),
    ),
  };
}
