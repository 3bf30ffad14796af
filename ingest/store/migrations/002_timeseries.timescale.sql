-- TimescaleDB only (applied when pg_available_extensions lists timescaledb).
CREATE EXTENSION IF NOT EXISTS timescaledb;
SELECT create_hypertable('readings', 'ts', chunk_time_interval => INTERVAL '1 day', migrate_data => true, if_not_exists => true);
SELECT create_hypertable('events', 'ts', chunk_time_interval => INTERVAL '7 days', migrate_data => true, if_not_exists => true);
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'ts DESC');
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => true);
SELECT add_retention_policy('readings', INTERVAL '400 days', if_not_exists => true);
CREATE MATERIALIZED VIEW IF NOT EXISTS readings_hourly WITH (timescaledb.continuous) AS
  SELECT device_id, time_bucket(INTERVAL '1 hour', ts) AS bucket, count(*) AS n
  FROM readings GROUP BY device_id, bucket WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_hourly', start_offset => INTERVAL '3 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', if_not_exists => true);
