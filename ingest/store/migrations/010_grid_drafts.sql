-- Grid studio (issue 14): drafts of a grid set, each edit stored as a change set, review and approval.
-- * grid_drafts: one draft; its grids live in grids under version_id (a grid_versions row in status 'draft').
--   rev counts every mutation (edit, undo, redo, re-code, submit, approve) for the optimistic check (409);
--   head is the number of change sets applied (undo moves it back, redo forward; a new edit drops the rest).
-- * grid_draft_changes: change set seq (1-based) of a draft: ops [{op: create|update|delete, before, after}].
-- * grid_draft_events: the history besides edits (created, undo, redo, submitted, approved, published …).
CREATE TABLE IF NOT EXISTS grid_drafts (
  id serial PRIMARY KEY,
  version_id int NOT NULL UNIQUE REFERENCES grid_versions (id) ON DELETE CASCADE,
  base_version int REFERENCES grid_versions (id),
  label text NOT NULL,
  state text NOT NULL DEFAULT 'editing'
    CHECK (state IN ('editing', 'submitted', 'approved', 'published', 'discarded')),
  rev int NOT NULL DEFAULT 0,
  head int NOT NULL DEFAULT 0,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  approved_by text,
  approved_at timestamptz,
  published_at timestamptz
);

CREATE TABLE IF NOT EXISTS grid_draft_changes (
  draft_id int NOT NULL REFERENCES grid_drafts (id) ON DELETE CASCADE,
  seq int NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  summary text NOT NULL DEFAULT '',
  ops jsonb NOT NULL,
  PRIMARY KEY (draft_id, seq)
);

CREATE TABLE IF NOT EXISTS grid_draft_events (
  id bigserial PRIMARY KEY,
  draft_id int NOT NULL REFERENCES grid_drafts (id) ON DELETE CASCADE,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS grid_draft_events_draft ON grid_draft_events (draft_id, id);
