-- Grid studio (issue 14): the last topology report of each draft, so that the check after an edit
-- re-validates only the edited neighbourhood (core/grid/studio.ts revalidate) and keeps the rest.
-- * report: the TopologyReport of the draft at revision report_rev (jsonb; null before the first check);
-- * report_lat: the latitude (degrees) of the area projection it was made with, kept for the next ones.
-- A report whose report_rev is not the draft's rev is stale and never used: the full check runs instead.
ALTER TABLE grid_drafts ADD COLUMN IF NOT EXISTS report jsonb;
ALTER TABLE grid_drafts ADD COLUMN IF NOT EXISTS report_rev int;
ALTER TABLE grid_drafts ADD COLUMN IF NOT EXISTS report_lat double precision;
