-- Cases, second step: what the case service needs beyond 001_init.
-- * cases.whistled: departments named by a whistle (吹哨), for the department read scope (assigned or whistled).
-- * cases.reporter: the reporter's contact (Open311 email/phone …), kept off the public case document.
-- * cases.trail_seq / trail_head: the trail's last position and hash, so an append needs no read of the trail
--   and verification also catches a rewritten last entry (core verifyChain's expectedHead).
-- * case_trail.from_state / to_state / version: part of the hashed entry (core/cases/trail.ts), stored so the
--   chain can be recomputed from the rows alone.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS whistled text[] NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN IF NOT EXISTS reporter jsonb;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS trail_seq int NOT NULL DEFAULT -1;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS trail_head text;
CREATE INDEX IF NOT EXISTS cases_department ON cases (department);
CREATE INDEX IF NOT EXISTS cases_whistled ON cases USING gin (whistled);
CREATE INDEX IF NOT EXISTS cases_deadline ON cases (deadline);
CREATE INDEX IF NOT EXISTS cases_closed ON cases (closed_at);

ALTER TABLE case_trail ADD COLUMN IF NOT EXISTS from_state text;
ALTER TABLE case_trail ADD COLUMN IF NOT EXISTS to_state text;
ALTER TABLE case_trail ADD COLUMN IF NOT EXISTS version int;

-- Scope and filters match grid-code prefixes (`grid LIKE '120106001%'`): an index usable for prefixes
-- whatever the database's collation.
CREATE INDEX IF NOT EXISTS cases_grid_prefix ON cases (grid text_pattern_ops);
