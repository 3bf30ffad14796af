-- Devices as they really are (issue 12): device time vs receipt time, clock skew, liveness per kind,
-- Frigate camera names per NVR, NVR health, camera alarm-push addressing. Idempotent.

-- Every reading and event keeps the device's claim (ts = occurredAt) and the platform's receipt
-- (received_at, set by ingest). time_flag: NULL (plausible), 'clock_skew' (ts too far in the future) or
-- 'late' (ts far behind receipt).
ALTER TABLE readings ADD COLUMN IF NOT EXISTS time_flag text;
ALTER TABLE events ADD COLUMN IF NOT EXISTS time_flag text;

-- An event without seq and without external id is one fact per (device, type, ts): a QoS 1 resend or an
-- outbox replay of it is stored once. Exact duplicates stored before this index existed are removed first.
DELETE FROM events e USING events f
 WHERE e.seq IS NULL AND e.external_id IS NULL AND f.seq IS NULL AND f.external_id IS NULL
   AND e.device_id = f.device_id AND e.type = f.type AND e.ts = f.ts AND e.id > f.id;
CREATE UNIQUE INDEX IF NOT EXISTS events_fact ON events (device_id, type, ts)
  WHERE seq IS NULL AND external_id IS NULL;
CREATE INDEX IF NOT EXISTS events_case ON events (case_id) WHERE case_id IS NOT NULL;

-- interval_set: intervalS was given at registration (otherwise the kind's default liveness applies).
ALTER TABLE devices ADD COLUMN IF NOT EXISTS interval_set boolean NOT NULL DEFAULT false;
-- Last observed clock skew (device time − receipt, ms) and when it was observed.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS clock_skew_ms bigint;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS clock_skew_at timestamptz;
-- IANA time zone of the device's clock, for local times without an offset (NULL = the platform's TZ).
ALTER TABLE devices ADD COLUMN IF NOT EXISTS tz text;
-- Frigate: a camera's name inside its NVR (NULL = its id); the NVR's topic_prefix and HTTP API address.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS frigate_name text;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS topic_prefix text;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS api_url text;
CREATE UNIQUE INDEX IF NOT EXISTS devices_frigate_name ON devices (gateway, (COALESCE(frigate_name, id)))
  WHERE gateway IS NOT NULL;
-- Camera alarm pushes (ISAPI/Dahua): the address and channel the camera names itself by.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS ip_address text;
ALTER TABLE devices ADD COLUMN IF NOT EXISTS channel_id int;
CREATE INDEX IF NOT EXISTS devices_ip_channel ON devices (ip_address, channel_id) WHERE ip_address IS NOT NULL;
-- Health an NVR reports about itself (frigate/available, frigate/stats): online, CPU, detectors, cameras.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS health jsonb;
-- The reject log is bounded per client as well as in all (one noisy client cannot flush everyone's).
CREATE INDEX IF NOT EXISTS ingest_rejects_client ON ingest_rejects (client_id, id DESC);
