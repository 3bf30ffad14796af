/**
 * The grid worker's outbox (网格通), in IndexedDB through `idb`: every action is a record with its own UUID
 * — the idempotency key the server stores — written before anything is sent, so it survives the app being
 * closed, the phone going offline or the page being reloaded. Photos wait beside their records as blobs
 * until uploaded (then only their SHA-256 is kept). The screen reads what is waiting from here.
 * (STYLE.md "The phone app is offline first"; ODK's instance id and FixMyStreet's drafts do the same.)
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export type OutboxKind = 'report' | 'claim' | 'handle' | 'comment' | 'verify' | 'track';

export interface OutboxRecord {
  /** Idempotency key: a UUID made on the phone. */
  key: string;
  kind: OutboxKind;
  /** The action's fields as POST /api/field/actions takes them, without photo ids. */
  body: Record<string, unknown>;
  /** Local photo ids (uploads) for `photos`, and for `selfHandled.after`. */
  photos: string[];
  after: string[];
  /** Phone time the record was made, epoch ms. */
  createdAt: number;
  tries: number;
  /** Set when the server refused it (a 4xx): shown to the worker, not resent. */
  error: { code: string; message: string } | null;
  /** A short label for the list ("暴露垃圾 · 10:02"). */
  label: string;
}

export interface LocalPhoto {
  /** Upload id (UUID). */
  id: string;
  blob: Blob;
  /** Set once the server has it. */
  sha256: string | null;
  /** Read from the original before compression (exifr). */
  takenAt: string | null;
  location: [number, number] | null;
  /**
   * false: `blob` is still the camera's original, to be compressed before upload (photo.ts compressStored).
   * Missing on records made before originals were kept: those were compressed already.
   */
  compressed?: boolean;
  /** The original's size, bytes (for the compression figure). */
  originalBytes?: number;
}

interface FieldDb extends DBSchema {
  outbox: { key: string; value: OutboxRecord; indexes: { createdAt: number } };
  photos: { key: string; value: LocalPhoto };
  cache: { key: string; value: unknown };
}

let dbp: Promise<IDBPDatabase<FieldDb>> | null = null;

export function db(): Promise<IDBPDatabase<FieldDb>> {
  dbp ??= openDB<FieldDb>('onegrid-field', 1, {
    upgrade(d) {
      d.createObjectStore('outbox', { keyPath: 'key' }).createIndex('createdAt', 'createdAt');
      d.createObjectStore('photos', { keyPath: 'id' });
      d.createObjectStore('cache');
    },
  });
  return dbp;
}

export async function enqueue(
  r: Omit<OutboxRecord, 'key' | 'createdAt' | 'tries' | 'error'>,
  photos: LocalPhoto[] = [],
): Promise<OutboxRecord> {
  const rec: OutboxRecord = { ...r, key: crypto.randomUUID(), createdAt: Date.now(), tries: 0, error: null };
  const d = await db();
  const tx = d.transaction(['outbox', 'photos'], 'readwrite');
  for (const p of photos) await tx.objectStore('photos').put(p);
  await tx.objectStore('outbox').put(rec);
  await tx.done;
  return rec;
}

export async function pending(): Promise<OutboxRecord[]> {
  return (await db()).getAllFromIndex('outbox', 'createdAt');
}

export async function remove(rec: OutboxRecord): Promise<void> {
  const d = await db();
  const tx = d.transaction(['outbox', 'photos'], 'readwrite');
  await tx.objectStore('outbox').delete(rec.key);
  for (const id of [...rec.photos, ...rec.after]) await tx.objectStore('photos').delete(id);
  await tx.done;
}

export async function update(rec: OutboxRecord): Promise<void> {
  await (await db()).put('outbox', rec);
}

export async function getPhoto(id: string): Promise<LocalPhoto | undefined> {
  return (await db()).get('photos', id);
}

export async function putPhoto(p: LocalPhoto): Promise<void> {
  await (await db()).put('photos', p);
}

export async function cacheGet<T>(key: string): Promise<T | undefined> {
  return (await (await db()).get('cache', key)) as T | undefined;
}

export async function cacheSet(key: string, value: unknown): Promise<void> {
  await (await db()).put('cache', value, key);
}

/** Ids of stored photos still waiting for compression. */
export async function uncompressedPhotos(): Promise<string[]> {
  const d = await db();
  const out: string[] = [];
  let c = await d.transaction('photos').store.openCursor();
  while (c) {
    if (c.value.compressed === false) out.push(c.value.id);
    c = await c.continue();
  }
  return out;
}
