/**
 * Chunked, resumable photo uploads from the grid worker's app, and the photo store keyed by SHA-256.
 *
 * init (client-made upload id and the total size) → PUT chunks at stated byte offsets → complete. A broken
 * connection loses at most the chunk in flight: the client asks for `received` and sends from there; a chunk
 * sent twice is taken once (bytes below `received` are ignored). On completion the bytes are hashed (SHA-256),
 * their type is sniffed from the bytes (file-type; the client's content-type is never trusted), the size is
 * capped, GPS and time are read from the EXIF (exifr), and a copy re-encoded by sharp without any metadata is
 * kept for public views. A photo already stored under the same SHA-256 is not stored again. The bytes (original
 * and public copy) are stored once, in the evidence store the case drawer reads (case_evidence, of no case
 * until the photo is attached); field_photos holds the photo's facts and points there (migration 012).
 */
import { createHash } from 'node:crypto';
import exifr from 'exifr';
import { publicCopy, sniffPhoto } from '../media/photo.ts';
import { DomainError } from '../../core/errors.ts';
import type { Db, Queryable } from '../store/db.ts';

// Bytes cross into and out of the database as base64 text (decode/encode in SQL, PostgreSQL and PGlite alike):
// PGlite takes a 350 KB bytea parameter in ~150 ms and the same as base64 in ~25 ms (measured 2026-11-30).

/** Largest photo accepted, bytes. The app compresses to ≤ 500 KB; an original from a camera is ≤ 12 MB. */
export const PHOTO_MAX_BYTES = 12 * 1024 * 1024;
/** Largest chunk per PUT, bytes: below adapter-node's default BODY_SIZE_LIMIT (512 KiB). */
export const CHUNK_MAX_BYTES = 256 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v);
}

export interface UploadState {
  id: string;
  size: number;
  /** Bytes received so far: the offset to send the next chunk from. */
  received: number;
  /** Set once complete: the photo's id. */
  sha256: string | null;
}

export interface StoredPhoto {
  sha256: string;
  mime: string;
  size: number;
  /** DateTimeOriginal from the EXIF, ISO-8601; null when absent. */
  takenAt: string | null;
  /** GPS position from the EXIF, [lng, lat]; null when absent. */
  location: [number, number] | null;
}

interface UploadRow {
  id: string;
  username: string;
  size: number;
  received: number;
  sha256: string | null;
}

async function row(q: Queryable, id: string, username: string, lock = false): Promise<UploadRow> {
  const r = await q.query<UploadRow>(
    `SELECT id, username, size, received, sha256 FROM field_uploads WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const u = r.rows[0];
  // Another user's upload is "not found": ids are not shared.
  if (!u || u.username !== username) throw new DomainError('not_found', `no upload ${id}`);
  return { ...u, size: Number(u.size), received: Number(u.received) };
}

const stateOf = (u: UploadRow): UploadState => ({ id: u.id, size: u.size, received: u.received, sha256: u.sha256 });

/** Start (or resume: same id) an upload of `size` bytes. Errors: validation_failed, payload_too_large. */
export async function initUpload(db: Db, username: string, id: unknown, size: unknown): Promise<UploadState> {
  if (!isUuid(id)) throw new DomainError('validation_failed', 'id must be a UUID made by the client', { field: 'id' });
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1)
    throw new DomainError('validation_failed', 'size must be a whole number of bytes ≥ 1', { field: 'size' });
  if (size > PHOTO_MAX_BYTES)
    throw new DomainError('payload_too_large', `a photo may be at most ${PHOTO_MAX_BYTES} bytes`, {
      maxBytes: PHOTO_MAX_BYTES,
    });
  await db.query(`INSERT INTO field_uploads (id, username, size) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [
    id,
    username,
    size,
  ]);
  const u = await row(db, id, username);
  if (u.size !== size) throw new DomainError('conflict', `upload ${id} was started with size ${u.size}`);
  return stateOf(u);
}

export async function uploadState(db: Db, username: string, id: string): Promise<UploadState> {
  if (!isUuid(id)) throw new DomainError('not_found', `no upload ${id}`);
  return stateOf(await row(db, id, username));
}

/**
 * Append a chunk that starts at byte `offset`. Bytes already received are skipped (a resent chunk is harmless);
 * a chunk that starts beyond `received` is refused 409 `conflict` with `details.received`, the offset to resume
 * from. Errors: validation_failed (offset, empty, past the declared size), payload_too_large, not_found.
 */
export async function putChunk(
  db: Db,
  username: string,
  id: string,
  offset: number,
  bytes: Buffer,
): Promise<UploadState> {
  if (!isUuid(id)) throw new DomainError('not_found', `no upload ${id}`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new DomainError('validation_failed', 'offset must be a whole number of bytes ≥ 0', { field: 'offset' });
  if (bytes.length === 0) throw new DomainError('validation_failed', 'the chunk is empty');
  if (bytes.length > CHUNK_MAX_BYTES)
    throw new DomainError('payload_too_large', `a chunk may be at most ${CHUNK_MAX_BYTES} bytes`, {
      maxBytes: CHUNK_MAX_BYTES,
    });
  return db.tx(async (q) => {
    const u = await row(q, id, username, true);
    if (u.sha256) return stateOf(u);
    if (offset > u.received)
      throw new DomainError('conflict', `upload ${id} has ${u.received} bytes; send from there`, {
        received: u.received,
      });
    if (offset + bytes.length > u.size)
      throw new DomainError('validation_failed', `the chunk runs past the declared size ${u.size}`, {
        field: 'offset',
      });
    const tail = bytes.subarray(u.received - offset);
    if (tail.length === 0) return stateOf(u);
    await q.query(
      `UPDATE field_uploads SET data = data || decode($2, 'base64'), received = received + $3 WHERE id = $1`,
      [id, tail.toString('base64'), tail.length],
    );
    return { ...stateOf(u), received: u.received + tail.length };
  });
}

/** EXIF time and GPS of a photo (before any re-encoding); nulls when absent or unreadable. */
export async function photoExif(bytes: Buffer): Promise<{ takenAt: string | null; location: [number, number] | null }> {
  try {
    // `pick` would skip the computed latitude/longitude; the segments are small, parse them whole.
    const t = (await exifr.parse(bytes, { gps: true, exif: true, tiff: true, xmp: false, icc: false })) as
      { DateTimeOriginal?: Date; latitude?: number; longitude?: number } | undefined;
    const lng = t?.longitude;
    const lat = t?.latitude;
    const loc: [number, number] | null =
      typeof lng === 'number' && typeof lat === 'number' && Number.isFinite(lng) && Number.isFinite(lat)
        ? [lng, lat]
        : null;
    const when = t?.DateTimeOriginal instanceof Date && !isNaN(+t.DateTimeOriginal) ? t.DateTimeOriginal : null;
    return { takenAt: when ? when.toISOString() : null, location: loc };
  } catch {
    return { takenAt: null, location: null };
  }
}

/**
 * Check and store a complete photo: sniffed type (JPEG, PNG, WebP; HEIC/HEIF refused 415
 * `unsupported_media` — sharp's prebuilt libvips cannot decode it, so no metadata-free copy could be made),
 * SHA-256, EXIF, public copy. Stored once per SHA-256.
 */
export async function storePhoto(q: Queryable, username: string, bytes: Buffer): Promise<StoredPhoto> {
  if (bytes.length > PHOTO_MAX_BYTES)
    throw new DomainError('payload_too_large', `a photo may be at most ${PHOTO_MAX_BYTES} bytes`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const known = await photoInfo(q, sha256);
  if (known) return known;
  const { photo, sniffed } = await sniffPhoto(bytes);
  if (!photo)
    throw new DomainError(
      'unsupported_media',
      sniffed === 'image/heic' || sniffed === 'image/heif'
        ? 'HEIC/HEIF photos are not accepted: set the camera to JPEG ("Most Compatible") or let the app convert'
        : `a photo must be JPEG, PNG or WebP (got ${sniffed ?? 'content of no recognisable type'})`,
      { mime: sniffed },
    );
  const publicJpeg = await publicCopy(bytes);
  if (!publicJpeg) throw new DomainError('validation_failed', 'the photo is damaged and cannot be read');
  const exif = await photoExif(bytes);
  // The bytes go to the evidence store (migration 006), of no case yet: attachPhotos (actions.ts) gives them
  // their case. field_photos keeps the facts and the two rows' ids (migration 012).
  const evidence = async (kind: string, mime: string, b: Buffer) =>
    (
      await q.query<{ id: string }>(
        `INSERT INTO case_evidence (case_id, kind, source, mime, bytes)
         VALUES (NULL, $1, $2, $3, decode($4, 'base64')) RETURNING id`,
        [kind, username, mime, b.toString('base64')],
      )
    ).rows[0].id;
  const e = await evidence('photo', photo, bytes);
  const p = await evidence('photo_public', 'image/jpeg', publicJpeg);
  const ins = await q.query(
    `INSERT INTO field_photos (sha256, mime, size, taken_at, lng, lat, uploaded_by, evidence_id, public_evidence_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (sha256) DO NOTHING RETURNING sha256`,
    [sha256, photo, bytes.length, exif.takenAt, exif.location?.[0] ?? null, exif.location?.[1] ?? null, username, e, p],
  );
  // The same photo completed at the same moment by another upload: that one is the stored copy.
  if (!ins.rows.length) await q.query(`DELETE FROM case_evidence WHERE id IN ($1, $2) AND case_id IS NULL`, [e, p]);
  return { sha256, mime: photo, size: bytes.length, ...exif };
}

/** Finish an upload: every byte must be there (409 `conflict` with `details.received` otherwise). */
export async function completeUpload(db: Db, username: string, id: string): Promise<StoredPhoto> {
  if (!isUuid(id)) throw new DomainError('not_found', `no upload ${id}`);
  return db.tx(async (q) => {
    const u = await row(q, id, username, true);
    if (u.sha256) {
      const p = await photoInfo(q, u.sha256);
      if (p) return p;
    }
    if (u.received !== u.size)
      throw new DomainError('conflict', `upload ${id} has ${u.received} of ${u.size} bytes`, { received: u.received });
    const data = (
      await q.query<{ data: string }>(`SELECT encode(data, 'base64') AS data FROM field_uploads WHERE id = $1`, [id])
    ).rows[0].data;
    const photo = await storePhoto(q, username, Buffer.from(data, 'base64'));
    // The bytes now live in the evidence store; the upload keeps only its result.
    await q.query(`UPDATE field_uploads SET sha256 = $2, data = ''::bytea WHERE id = $1`, [id, photo.sha256]);
    return photo;
  });
}

/** A stored photo's facts (not its bytes); null when unknown. */
export async function photoInfo(q: Queryable, sha256: string): Promise<StoredPhoto | null> {
  const r = await q.query<{
    sha256: string;
    mime: string;
    size: number;
    taken_at: Date | string | null;
    lng: number | null;
    lat: number | null;
  }>(`SELECT sha256, mime, size, taken_at, lng, lat FROM field_photos WHERE sha256 = $1`, [sha256]);
  const p = r.rows[0];
  if (!p) return null;
  return {
    sha256: p.sha256,
    mime: p.mime,
    size: Number(p.size),
    takenAt: p.taken_at ? new Date(p.taken_at).toISOString() : null,
    location: p.lng !== null && p.lat !== null ? [Number(p.lng), Number(p.lat)] : null,
  };
}
