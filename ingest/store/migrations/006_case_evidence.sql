-- Evidence files attached to cases (camera snapshots taken when a case is raised, photos of handling).
-- Kept in the database so every replica serves them (scaled mode has no shared disk).
CREATE TABLE IF NOT EXISTS case_evidence (
  id bigserial PRIMARY KEY,
  case_id text NOT NULL REFERENCES cases (id),
  kind text NOT NULL,
  source text,
  mime text NOT NULL,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS case_evidence_case ON case_evidence (case_id);
