/**
 * A photo from the phone's camera, made ready for the outbox: its time and GPS read from the original's EXIF
 * (exifr) BEFORE compression, then compressed to at most 500 KB (browser-image-compression, EXIF kept for
 * JPEG so the server can check where a 核查 photo was taken). HEIC/HEIF is refused with a clear message:
 * browsers other than Safari cannot decode it, and the server could not make a metadata-free copy.
 */
import exifr from 'exifr';
import imageCompression from 'browser-image-compression';
import type { LocalPhoto } from './outbox.ts';

export const MAX_PHOTO_BYTES = 500 * 1000;

export class HeicRefused extends Error {}

async function isHeic(file: Blob & { name?: string }): Promise<boolean> {
  if (/image\/hei[cf]/i.test(file.type) || /\.hei[cf]$/i.test(file.name ?? '')) return true;
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const brand = String.fromCharCode(...head.slice(4, 12));
  return /^ftyp(heic|heix|hevc|heim|heis|mif1|msf1)/.test(brand);
}

export async function preparePhoto(file: File): Promise<LocalPhoto> {
  if (await isHeic(file)) throw new HeicRefused('heic');
  let takenAt: string | null = null;
  let location: [number, number] | null = null;
  try {
    const t = (await exifr.parse(file, { gps: true })) as
      { DateTimeOriginal?: Date; latitude?: number; longitude?: number } | undefined;
    if (t?.DateTimeOriginal instanceof Date && !isNaN(+t.DateTimeOriginal)) takenAt = t.DateTimeOriginal.toISOString();
    if (typeof t?.longitude === 'number' && typeof t?.latitude === 'number') location = [t.longitude, t.latitude];
  } catch {
    /* no EXIF: a screenshot or a stripped file */
  }
  let blob: Blob = file;
  if (file.size > MAX_PHOTO_BYTES || file.type !== 'image/jpeg') {
    // The web worker of browser-image-compression loads its library from a CDN: not offline, not under our CSP.
    blob = await imageCompression(file, {
      maxSizeMB: MAX_PHOTO_BYTES / 1024 / 1024,
      maxWidthOrHeight: 1920,
      useWebWorker: false,
      fileType: 'image/jpeg',
      preserveExif: true,
      initialQuality: 0.8,
    });
  }
  return { id: crypto.randomUUID(), blob, sha256: null, takenAt, location };
}
