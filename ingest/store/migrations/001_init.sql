-- OneGrid schema v1. Runs unchanged on PGlite, PostgreSQL and TimescaleDB.
-- Geometry is stored as GeoJSON (jsonb, WGS-84 [lng, lat]); the spatial join runs in process (DESIGN.md).

CREATE TABLE IF NOT EXISTS kv (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Grids are versioned: analysts edit a draft, validate, re-code and publish.
CREATE TABLE IF NOT EXISTS grid_versions (
  id serial PRIMARY KEY,
  label text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  profile text NOT NULL DEFAULT 'gb15',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS grid_versions_one_published ON grid_versions ((status)) WHERE status = 'published';

CREATE TABLE IF NOT EXISTS grids (
  version_id int NOT NULL REFERENCES grid_versions (id) ON DELETE CASCADE,
  code text NOT NULL,
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
  name text NOT NULL,
  parent text,
  kind text NOT NULL,
  households int,
  props jsonb NOT NULL DEFAULT '{}',
  geometry jsonb NOT NULL,
  PRIMARY KEY (version_id, code)
);
CREATE INDEX IF NOT EXISTS grids_parent ON grids (version_id, parent);
CREATE INDEX IF NOT EXISTS grids_level ON grids (version_id, level);

-- Old code → new code when a version is published (re-coding keeps history joinable).
CREATE TABLE IF NOT EXISTS grid_code_map (
  from_version int NOT NULL,
  to_version int NOT NULL,
  old_code text NOT NULL,
  new_code text,
  PRIMARY KEY (from_version, to_version, old_code)
);

CREATE TABLE IF NOT EXISTS departments (
  id text PRIMARY KEY,
  name text NOT NULL,
  name_en text NOT NULL,
  categories text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS users (
  username text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'analyst', 'commander', 'dispatcher', 'department', 'gridworker', 'viewer')),
  password_hash text NOT NULL,
  scope_grid text,
  scope_department text REFERENCES departments (id),
  level text CHECK (level IN ('community', 'street', 'district')),
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sessions (
  token_hash text PRIMARY KEY,
  username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);

CREATE TABLE IF NOT EXISTS devices (
  id text PRIMARY KEY,
  kind text NOT NULL,
  name text,
  source text,
  gateway text REFERENCES devices (id),
  rtsp text,
  interval_s int NOT NULL DEFAULT 60,
  lng double precision,
  lat double precision,
  grid text,
  secret_hash text,
  simulated boolean NOT NULL DEFAULT false,
  online boolean NOT NULL DEFAULT false,
  last_seen timestamptz,
  props jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS devices_kind ON devices (kind);
CREATE INDEX IF NOT EXISTS devices_grid ON devices (grid);
CREATE INDEX IF NOT EXISTS devices_gateway ON devices (gateway);

-- Time series. (device_id, seq, ts) is unique so a redelivered message is stored once; ts is part of the
-- key because TimescaleDB requires the partitioning column in every unique index, and a redelivery
-- carries the same ts.
CREATE TABLE IF NOT EXISTS readings (
  device_id text NOT NULL,
  seq bigint,
  ts timestamptz NOT NULL,
  metrics jsonb NOT NULL,
  lng double precision,
  lat double precision,
  grid text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS readings_dedup ON readings (device_id, seq, ts);
CREATE INDEX IF NOT EXISTS readings_device_ts ON readings (device_id, ts DESC);

CREATE TABLE IF NOT EXISTS events (
  id bigserial,
  device_id text NOT NULL,
  seq bigint,
  external_id text,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  severity text,
  lng double precision,
  lat double precision,
  grid text,
  attrs jsonb NOT NULL DEFAULT '{}',
  case_id text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events (device_id, seq, ts);
CREATE UNIQUE INDEX IF NOT EXISTS events_external ON events (device_id, external_id, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts DESC);
CREATE INDEX IF NOT EXISTS events_grid_ts ON events (grid, ts DESC);

CREATE TABLE IF NOT EXISTS ingest_rejects (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  client_id text,
  topic text,
  reason text NOT NULL,
  detail text,
  payload text
);
CREATE INDEX IF NOT EXISTS ingest_rejects_at ON ingest_rejects (at DESC);

-- Cases: the indexed columns serve filters, scope and timers; `doc` holds the whole case record.
CREATE TABLE IF NOT EXISTS cases (
  id text PRIMARY KEY,
  code text NOT NULL UNIQUE,
  state text NOT NULL,
  priority smallint NOT NULL,
  level text NOT NULL,
  category text NOT NULL,
  source text NOT NULL,
  grid text,
  department text,
  rule_key text,
  deadline timestamptz,
  overdue boolean NOT NULL DEFAULT false,
  next_timer_at timestamptz,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  closed_at timestamptz,
  doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_grid ON cases (grid);
CREATE INDEX IF NOT EXISTS cases_state ON cases (state, created_at DESC);
CREATE INDEX IF NOT EXISTS cases_created ON cases (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS cases_timer ON cases (next_timer_at) WHERE next_timer_at IS NOT NULL;
-- One open sensor case per rule key (device+type, or fusion key): repeats fold into it.
CREATE UNIQUE INDEX IF NOT EXISTS cases_open_rule_key ON cases (rule_key)
  WHERE rule_key IS NOT NULL AND state NOT IN ('closed', 'rejected', 'merged');

CREATE TABLE IF NOT EXISTS case_codes (
  day text PRIMARY KEY,
  n int NOT NULL
);

-- The trail (全程留痕): append-only, SHA-256 chained. Updates and deletes are refused by the database.
CREATE TABLE IF NOT EXISTS case_trail (
  case_id text NOT NULL REFERENCES cases (id),
  seq int NOT NULL,
  action text NOT NULL,
  actor text NOT NULL,
  role text NOT NULL,
  at timestamptz NOT NULL,
  note text,
  data jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (case_id, seq)
);

CREATE OR REPLACE FUNCTION case_trail_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'case_trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS case_trail_no_update ON case_trail;
CREATE TRIGGER case_trail_no_update BEFORE UPDATE OR DELETE ON case_trail
  FOR EACH ROW EXECUTE FUNCTION case_trail_append_only();
