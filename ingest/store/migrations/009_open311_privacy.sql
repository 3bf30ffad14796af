-- Open311 privacy and flood control (issue 11, finding 7; ingest/open311/README.md "Privacy").
-- * public_id: the service_request_id citizens see — 20 random hex characters (80 bits), stored beside the
--   internal case id, so requests cannot be found by counting. Case codes (HQ-20261123-0001) no longer
--   resolve anonymously. Existing rows get one here; citizen cases without a row get one when first shown.
-- * client_ip, fingerprint, lng, lat: what folding identical submissions compares (same key or address,
--   same service_code and description, within ~50 m, within the fold window).
-- * media_evidence, public_media_evidence: the uploaded `media` photo as case evidence (case_evidence ids):
--   the original for handlers, and a re-encoded copy without metadata (no GPS) behind the public media_url.
ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS public_id text;
UPDATE open311_requests SET public_id = substr(md5(gen_random_uuid()::text), 1, 20) WHERE public_id IS NULL;
ALTER TABLE open311_requests ALTER COLUMN public_id SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS open311_requests_public_id ON open311_requests (public_id);

ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS client_ip text;
ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS fingerprint text;
ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS lng double precision;
ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS lat double precision;
CREATE INDEX IF NOT EXISTS open311_requests_fingerprint ON open311_requests (fingerprint, created_at);

ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS media_evidence bigint;
ALTER TABLE open311_requests ADD COLUMN IF NOT EXISTS public_media_evidence bigint;
