-- The grid worker's app (网格通, /m): idempotent actions, chunked photo uploads, photos by SHA-256,
-- photos attached to cases, and patrol track fixes. Idempotent (IF NOT EXISTS); PGlite and PostgreSQL alike.

-- One row per client-generated idempotency key (a UUID made on the phone for each outbox record): the first
-- answer is stored and a repeated key gets it again (ODK's instance id; RFC 9110 idempotent retries).
CREATE TABLE IF NOT EXISTS field_actions (
  key uuid PRIMARY KEY,
  username text NOT NULL,
  kind text NOT NULL,
  status integer NOT NULL,
  response jsonb NOT NULL,
  case_id text,
  phone_time timestamptz,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS field_actions_user ON field_actions (username, received_at);

-- Resumable uploads: bytes arrive in chunks at stated offsets and are appended here until complete.
CREATE TABLE IF NOT EXISTS field_uploads (
  id uuid PRIMARY KEY,
  username text NOT NULL,
  size integer NOT NULL,
  received integer NOT NULL DEFAULT 0,
  data bytea NOT NULL DEFAULT ''::bytea,
  sha256 text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Each photo once, keyed by the SHA-256 of its bytes; `public_jpeg` is a re-encoded copy without metadata.
CREATE TABLE IF NOT EXISTS field_photos (
  sha256 text PRIMARY KEY,
  mime text NOT NULL,
  size integer NOT NULL,
  bytes bytea NOT NULL,
  public_jpeg bytea NOT NULL,
  taken_at timestamptz,
  lng double precision,
  lat double precision,
  uploaded_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A photo attached to a case: its rows in the evidence store of migration 006 (original and public copy).
CREATE TABLE IF NOT EXISTS field_case_photos (
  case_id text NOT NULL REFERENCES cases (id),
  sha256 text NOT NULL REFERENCES field_photos (sha256),
  role text NOT NULL,
  evidence_id bigint NOT NULL,
  public_evidence_id bigint NOT NULL,
  PRIMARY KEY (case_id, sha256)
);

-- Patrol track fixes (巡查轨迹): the GPS fix's own time, the phone's clock when the batch was sent, and the
-- server's receipt time; a phone clock more than two minutes off is flagged. A resent fix is stored once.
CREATE TABLE IF NOT EXISTS field_fixes (
  username text NOT NULL,
  fix_time timestamptz NOT NULL,
  day date NOT NULL,
  patrol uuid NOT NULL,
  lng double precision NOT NULL,
  lat double precision NOT NULL,
  accuracy_m real,
  phone_time timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  clock_skew_ms integer NOT NULL,
  clock_flagged boolean NOT NULL,
  grid text,
  PRIMARY KEY (username, fix_time)
);
CREATE INDEX IF NOT EXISTS field_fixes_day ON field_fixes (day, username);

-- A device session (the grid worker's phone): no idle timeout, a longer absolute lifetime; revoked like any
-- other session (sign-out, an admin disabling the user or resetting its password).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS device boolean NOT NULL DEFAULT false;
