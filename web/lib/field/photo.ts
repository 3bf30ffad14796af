/**
 * A photo from the phone's camera, made ready for the outbox in two steps so that saving a report never waits
 * for image work:
 *
 * 1. `readPhoto` (when the photo is chosen, milliseconds): refuse HEIC/HEIF, read time and GPS from the
 *    original's EXIF once (exifr reads only the file's head), and keep the ORIGINAL blob, `compressed: false`.
 *    The report is then written to the IndexedDB outbox with the originals: it is safe from that moment.
 * 2. `compressStored` (in the background, and before any upload): compress to at most 500 KB and 1920 px on
 *    the long edge (browser-image-compression inside our own Web Worker, compress.worker.ts; on the main
 *    thread where workers are missing), EXIF kept for JPEG so the server can check where a 核查 photo was
 *    taken, and replace the original in IndexedDB. One compression per photo at a time (shared promise).
 *
 * Measured in `npm run bench -- field`: compressing three 12-megapixel JPEGs in the first design (on the
 * main thread, before the report could be saved) kept the worker waiting for seconds.
 * HEIC/HEIF is refused with a clear message: browsers other than Safari cannot decode it, and the server could
 * not make a metadata-free copy.
 */
import exifr from 'exifr';
import { getPhoto, putPhoto, type LocalPhoto } from './outbox.ts';

export const MAX_PHOTO_BYTES = 500 * 1000;
/** Long edge after compression, px. */
export const MAX_PHOTO_EDGE = 1920;

export class HeicRefused extends Error {}

async function isHeic(file: Blob & { name?: string }): Promise<boolean> {
  if (/image\/hei[cf]/i.test(file.type) || /\.hei[cf]$/i.test(file.name ?? '')) return true;
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const brand = String.fromCharCode(...head.slice(4, 12));
  return /^ftyp(heic|heix|hevc|heim|heis|mif1|msf1)/.test(brand);
}

/** Whether a blob can go to the server as it is (a JPEG within the size cap). */
export function small(blob: Blob): boolean {
  return blob.size <= MAX_PHOTO_BYTES && blob.type === 'image/jpeg';
}

/** Step 1: check the type, read EXIF time/GPS once, keep the original. Throws HeicRefused. */
export async function readPhoto(file: File): Promise<LocalPhoto> {
  if (await isHeic(file)) throw new HeicRefused('heic');
  let takenAt: string | null = null;
  let location: [number, number] | null = null;
  try {
    const t = (await exifr.parse(file, { gps: true, tiff: true, exif: true, xmp: false, icc: false, iptc: false })) as
      { DateTimeOriginal?: Date; latitude?: number; longitude?: number } | undefined;
    if (t?.DateTimeOriginal instanceof Date && !isNaN(+t.DateTimeOriginal)) takenAt = t.DateTimeOriginal.toISOString();
    if (typeof t?.longitude === 'number' && typeof t?.latitude === 'number') location = [t.longitude, t.latitude];
  } catch {
    /* no EXIF: a screenshot or a stripped file */
  }
  return {
    id: crypto.randomUUID(),
    blob: file,
    sha256: null,
    takenAt,
    location,
    compressed: small(file),
    originalBytes: file.size,
  };
}

let worker: Worker | null = null;
let workerBroken = false;
const waiting = new Map<string, { ok: (b: Blob) => void; fail: (e: Error) => void }>();

function compressor(): Worker | null {
  if (workerBroken || typeof Worker === 'undefined') return null;
  if (!worker) {
    try {
      worker = new Worker(new URL('./compress.worker.ts', import.meta.url), { type: 'module' });
    } catch {
      workerBroken = true;
      return null;
    }
    worker.onmessage = (e: MessageEvent<{ id: string; blob?: Blob; error?: string }>) => {
      const w = waiting.get(e.data.id);
      waiting.delete(e.data.id);
      if (!w) return;
      if (e.data.blob) w.ok(e.data.blob);
      else w.fail(new Error(e.data.error ?? 'compression failed'));
    };
    worker.onerror = () => {
      // The worker could not start (e.g. its script missing offline): the main thread does it from now on.
      workerBroken = true;
      worker = null;
      for (const [, w] of waiting) w.fail(new Error('worker failed'));
      waiting.clear();
    };
  }
  return worker;
}

async function onMainThread(blob: Blob): Promise<Blob> {
  const { default: imageCompression } = await import('browser-image-compression');
  return imageCompression(new File([blob], 'photo.jpg', { type: blob.type || 'image/jpeg' }), {
    maxSizeMB: MAX_PHOTO_BYTES / 1024 / 1024,
    maxWidthOrHeight: MAX_PHOTO_EDGE,
    useWebWorker: false,
    fileType: 'image/jpeg',
    preserveExif: true,
    initialQuality: 0.8,
  });
}

/** Compress one blob to ≤ MAX_PHOTO_BYTES JPEG: in the worker, else on the main thread. */
export async function compressBlob(id: string, blob: Blob): Promise<Blob> {
  const w = compressor();
  if (w) {
    try {
      return await new Promise<Blob>((ok, fail) => {
        waiting.set(id, { ok, fail });
        w.postMessage({ id, blob, maxBytes: MAX_PHOTO_BYTES, maxEdge: MAX_PHOTO_EDGE });
      });
    } catch {
      /* fall through to the main thread */
    }
  }
  return onMainThread(blob);
}

const inFlight = new Map<string, Promise<LocalPhoto | undefined>>();

/**
 * Step 2: compress the stored photo `id` if it is not yet, and write the result back to IndexedDB. Answers the
 * stored photo (compressed), or undefined when it is no longer stored (sent and removed meanwhile).
 */
export function compressStored(id: string): Promise<LocalPhoto | undefined> {
  let p = inFlight.get(id);
  if (!p) {
    p = (async (): Promise<LocalPhoto | undefined> => {
      const stored = await getPhoto(id);
      // Records written before this field existed hold compressed photos: only an explicit false waits.
      if (!stored || stored.compressed !== false) return stored;
      const blob = await compressBlob(id, stored.blob);
      // Still there (not sent and removed while compressing)?
      const now = await getPhoto(id);
      if (!now) return undefined;
      const done: LocalPhoto = { ...now, blob, compressed: true };
      await putPhoto(done);
      performance.mark?.(`field:compressed:${id}`);
      return done;
    })().finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}

/** Compress every stored photo still waiting for it, one at a time (after a save, and when the app starts). */
let queue: Promise<void> = Promise.resolve();
export function compressInBackground(ids: string[]): Promise<void> {
  queue = queue.then(async () => {
    for (const id of ids) await compressStored(id).catch(() => undefined);
  });
  return queue;
}
