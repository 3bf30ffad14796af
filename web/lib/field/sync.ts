/**
 * Sending the outbox: photos first, in chunks that resume where the server says it stands after a broken
 * connection (POST /api/field/uploads → PUT chunks with Upload-Offset → …/complete), then the action with its
 * idempotency key (POST /api/field/actions). A record leaves the outbox only when the server answered it;
 * a network failure or a 5xx leaves it for the next try; a 4xx marks it refused with the server's reason.
 */
import { getPhoto, pending, putPhoto, remove, update, type LocalPhoto, type OutboxRecord } from './outbox.ts';
import { authFetch } from './auth.ts';
import { compressStored } from './photo.ts';

/** Thrown to stop a drain: the network is down or the server is not answering; try again later. */
class Offline extends Error {}
/** Thrown when the session is gone: sign in again, the outbox waits. */
export class SignedOut extends Error {}

async function call(url: string, init: RequestInit): Promise<Response> {
  let r: Response;
  try {
    r = await authFetch(url, init);
  } catch {
    throw new Offline('network');
  }
  if (r.status === 401) throw new SignedOut('signed out');
  if (r.status >= 500 || r.status === 408 || r.status === 429) throw new Offline(`server ${r.status}`);
  return r;
}

class Refused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function refusal(r: Response): Promise<Refused> {
  const j = (await r.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  return new Refused(j?.error?.code ?? `http_${r.status}`, j?.error?.message ?? `HTTP ${r.status}`);
}

/** Upload one photo (resuming), answering its SHA-256. */
export async function uploadPhoto(p: LocalPhoto): Promise<string> {
  if (p.sha256) return p.sha256;
  // Saved as the camera's original: compressed first (or joined to the background compression under way).
  if (p.compressed === false) p = (await compressStored(p.id)) ?? p;
  const json = { 'content-type': 'application/json' };
  let r = await call('/api/field/uploads', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ id: p.id, size: p.blob.size }),
  });
  if (!r.ok) throw await refusal(r);
  const st = (await r.json()) as { received: number; sha256: string | null; chunkMaxBytes: number };
  let offset = st.received;
  const chunk = st.chunkMaxBytes || 256 * 1024;
  while (!st.sha256 && offset < p.blob.size) {
    r = await call(`/api/field/uploads/${p.id}`, {
      method: 'PUT',
      headers: { 'upload-offset': String(offset), 'content-type': 'application/octet-stream' },
      body: p.blob.slice(offset, offset + chunk),
    });
    if (r.status === 409) {
      offset = ((await r.json()) as { error: { details: { received: number } } }).error.details.received;
      continue;
    }
    if (!r.ok) throw await refusal(r);
    offset = ((await r.json()) as { received: number }).received;
  }
  r = await call(`/api/field/uploads/${p.id}/complete`, { method: 'POST' });
  if (!r.ok) throw await refusal(r);
  const done = (await r.json()) as { sha256: string };
  await putPhoto({ ...p, sha256: done.sha256 });
  return done.sha256;
}

/**
 * Photo uploads of one drain, by local photo id: each photo is uploaded once per drain, and those of the next
 * records start while the current record is sent (LOOKAHEAD), so the server's photo work (hashing, the
 * metadata-free copy) overlaps with the sending. Records are still SENT one at a time, oldest first (a claim
 * before its handle); only photo uploads, which are independent of each other, run ahead.
 */
type Uploads = Map<string, Promise<string>>;
/** Records ahead of the current one whose photos may upload meanwhile. */
const LOOKAHEAD = 2;

function shaOf(ups: Uploads, id: string): Promise<string> {
  let p = ups.get(id);
  if (!p) {
    p = (async () => {
      const ph = await getPhoto(id);
      if (!ph) throw new Refused('photo_lost', 'a photo of this record is no longer on the phone');
      return uploadPhoto(ph);
    })();
    p.catch(() => {}); // awaited (and its error handled) by the record it belongs to, or dropped with the drain
    ups.set(id, p);
  }
  return p;
}

async function shas(ups: Uploads, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) out.push(await shaOf(ups, id));
  return out;
}

/** Send one record; answers the server's body. */
export async function send(rec: OutboxRecord, ups: Uploads = new Map()): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { ...rec.body, key: rec.key, kind: rec.kind, createdAt: rec.createdAt };
  if (rec.photos.length) body.photos = await shas(ups, rec.photos);
  if (rec.after.length) body.selfHandled = { ...(rec.body.selfHandled as object), after: await shas(ups, rec.after) };
  body.sentAt = Date.now();
  const r = await call('/api/field/actions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw await refusal(r);
  return (await r.json()) as Record<string, unknown>;
}

export interface DrainResult {
  sent: number;
  refused: number;
  stopped: 'offline' | 'signed_out' | null;
}

let running: Promise<DrainResult> | null = null;

/** Send everything waiting, oldest first; one drain at a time. */
export function drain(onSent?: (rec: OutboxRecord, answer: Record<string, unknown>) => void): Promise<DrainResult> {
  running ??= (async () => {
    const out: DrainResult = { sent: 0, refused: 0, stopped: null };
    const ups: Uploads = new Map();
    try {
      const todo = (await pending()).filter((r) => !r.error);
      for (let i = 0; i < todo.length; i++) {
        const rec = todo[i];
        for (const next of todo.slice(i + 1, i + 1 + LOOKAHEAD))
          for (const id of [...next.photos, ...next.after]) void shaOf(ups, id);
        try {
          const answer = await send(rec, ups);
          await remove(rec);
          out.sent++;
          onSent?.(rec, answer);
        } catch (e) {
          if (e instanceof Refused) {
            await update({ ...rec, tries: rec.tries + 1, error: { code: e.code, message: e.message } });
            out.refused++;
            continue;
          }
          await update({ ...rec, tries: rec.tries + 1 });
          if (e instanceof SignedOut) out.stopped = 'signed_out';
          else out.stopped = 'offline';
          break;
        }
      }
    } finally {
      // No upload of this drain outlives it (the next drain would start the same photo again).
      await Promise.allSettled(ups.values());
      running = null;
    }
    return out;
  })();
  return running;
}
