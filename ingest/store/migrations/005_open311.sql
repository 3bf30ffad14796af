-- Open311 GeoReport v2 (ingest/open311/).
-- * open311_keys: API keys for POST service request, created by an administrator (POST /api/open311/keys).
--   Only the SHA-256 of a key is stored; the key itself is shown once. Revoked keys are kept for the record.
-- * open311_requests: the cases created through Open311, with the token of each (GET tokens/{token}) and
--   the key that created it. Reporter contact stays on the case (cases.reporter), never here.

CREATE TABLE IF NOT EXISTS open311_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  name text NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE IF NOT EXISTS open311_requests (
  case_id text PRIMARY KEY,
  code text NOT NULL,
  token text NOT NULL UNIQUE,
  key_id text REFERENCES open311_keys (id),
  address_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS open311_requests_code ON open311_requests (code);
