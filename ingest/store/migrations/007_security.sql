-- Accounts, sessions and the security audit log (GB/T 22239-2019 level 3: identification and
-- authentication 8.1.4.1, security audit 8.1.4.3). Idempotent; runs on PGlite and PostgreSQL alike.

-- Login-failure handling: failures counted in a window, a lock until a time (an admin may clear it).
ALTER TABLE users ADD COLUMN IF NOT EXISTS failed_logins int NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN IF NOT EXISTS failed_since timestamptz;
ALTER TABLE users ADD COLUMN IF NOT EXISTS locked_until timestamptz;
-- A generated or reset password must be replaced at the next sign-in.
ALTER TABLE users ADD COLUMN IF NOT EXISTS must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN IF NOT EXISTS password_changed_at timestamptz;
-- TOTP (RFC 6238): the base32 secret (kept server-side), whether enrolment was confirmed, and the last
-- accepted time step (a code is accepted once).
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_secret text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN IF NOT EXISTS totp_last_step bigint;

-- Idle timeout: the last time a session was used (refreshed at most once a minute).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS last_seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);

-- Security audit log (安全审计): append-only, SHA-256 chained with the case trail's hashing
-- (core/cases/trail.ts chainHash). seq is the chain position and the keyset for pages.
CREATE TABLE IF NOT EXISTS audit_log (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  actor text,
  target text,
  ip text,
  detail jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_kind ON audit_log (kind, seq);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, seq);

-- UPDATE is always refused. DELETE is refused unless the deleting transaction declared a retention prune
-- (SET LOCAL onegrid.audit_prune = 'on') AND the row is older than 180 days: the six-month minimum of the
-- standard holds even against the application itself.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE'
     AND coalesce(current_setting('onegrid.audit_prune', true), '') = 'on'
     AND OLD.at < now() - interval '180 days' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE OR REPLACE FUNCTION audit_log_no_truncate_fn() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (TRUNCATE refused)' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate_fn();
