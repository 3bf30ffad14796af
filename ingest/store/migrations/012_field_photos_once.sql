-- Photos from the grid worker's app stored once, in the evidence store the case drawer reads (migration 006):
-- an upload's original and its metadata-free public copy become case_evidence rows when the upload completes,
-- not yet of any case (case_id NULL: no case's evidence list shows them); attaching the photo to its case sets
-- case_id. field_photos keeps only the photo's facts (SHA-256, type, size, EXIF time and GPS, uploader) and the
-- ids of its two evidence rows. A photo attached to a second case gets a copy for that case.
--
-- Numbered 012 but written for either order: on a new database it runs before 013_field.sql and creates
-- field_photos in its new shape (013's CREATE TABLE IF NOT EXISTS then leaves it); on a database where 013 ran
-- already it reshapes the table and moves the bytes of existing photos into the evidence store.
ALTER TABLE case_evidence ALTER COLUMN case_id DROP NOT NULL;

CREATE TABLE IF NOT EXISTS field_photos (
  sha256 text PRIMARY KEY,
  mime text NOT NULL,
  size integer NOT NULL,
  bytes bytea,
  public_jpeg bytea,
  taken_at timestamptz,
  lng double precision,
  lat double precision,
  uploaded_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  evidence_id bigint,
  public_evidence_id bigint
);
ALTER TABLE field_photos ADD COLUMN IF NOT EXISTS evidence_id bigint;
ALTER TABLE field_photos ADD COLUMN IF NOT EXISTS public_evidence_id bigint;
ALTER TABLE field_photos ALTER COLUMN bytes DROP NOT NULL;
ALTER TABLE field_photos ALTER COLUMN public_jpeg DROP NOT NULL;

-- Existing photos: one attached to a case already has its bytes there (its first case's rows become the
-- stored copy); the others move into the evidence store, of no case yet. Then field_photos lets go of them.
DO $$
DECLARE
  r record;
  e bigint;
  p bigint;
BEGIN
  IF to_regclass('field_case_photos') IS NOT NULL THEN
    UPDATE field_photos f
       SET evidence_id = c.evidence_id, public_evidence_id = c.public_evidence_id
      FROM (SELECT DISTINCT ON (sha256) sha256, evidence_id, public_evidence_id
              FROM field_case_photos ORDER BY sha256, case_id) c
     WHERE f.sha256 = c.sha256 AND f.evidence_id IS NULL;
  END IF;
  FOR r IN SELECT sha256, mime, bytes, public_jpeg, uploaded_by FROM field_photos
            WHERE evidence_id IS NULL AND bytes IS NOT NULL AND public_jpeg IS NOT NULL LOOP
    INSERT INTO case_evidence (case_id, kind, source, mime, bytes)
      VALUES (NULL, 'photo', r.uploaded_by, r.mime, r.bytes) RETURNING id INTO e;
    INSERT INTO case_evidence (case_id, kind, source, mime, bytes)
      VALUES (NULL, 'photo_public', r.uploaded_by, 'image/jpeg', r.public_jpeg) RETURNING id INTO p;
    UPDATE field_photos SET evidence_id = e, public_evidence_id = p WHERE sha256 = r.sha256;
  END LOOP;
  UPDATE field_photos SET bytes = NULL, public_jpeg = NULL WHERE evidence_id IS NOT NULL;
END $$;
