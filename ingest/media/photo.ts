/**
 * Photos from every door (Open311 `media`, the grid worker's app, …) are checked and made public the same way:
 * the type is read from the bytes, never from a file name or a Content-Type (file-type), and the copy any
 * public view gets is re-encoded by sharp (libvips) as a JPEG without metadata — no EXIF, so no GPS position
 * or camera serial leaves with it (PIPL: a citizen's location is personal information).
 */
import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';

/** Photo types accepted everywhere. HEIC/HEIF is not: sharp's prebuilt libvips cannot decode it. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];
/** Longest side of the public copy, px. */
export const PUBLIC_MAX_PX = 2048;
/** Largest decoded image, pixels (a decompression bomb is refused before it is decoded). */
const MAX_INPUT_PIXELS = 50_000_000;

/** What the bytes are: `photo` when an accepted photo type, and the sniffed MIME type (null: unrecognised). */
export async function sniffPhoto(bytes: Uint8Array): Promise<{ photo: PhotoType | null; sniffed: string | null }> {
  const sniffed = ((await fileTypeFromBuffer(bytes))?.mime as string | undefined) ?? null;
  const photo = sniffed && (PHOTO_TYPES as readonly string[]).includes(sniffed) ? (sniffed as PhotoType) : null;
  return { photo, sniffed };
}

/**
 * The public copy: EXIF orientation applied, at most PUBLIC_MAX_PX on its longest side, JPEG quality 85, no
 * metadata (sharp writes none unless asked with keepMetadata/withMetadata). Null when the image cannot be
 * decoded (damaged, or too large).
 */
export async function publicCopy(bytes: Uint8Array): Promise<Buffer | null> {
  try {
    return await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize({ width: PUBLIC_MAX_PX, height: PUBLIC_MAX_PX, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85 })
      .toBuffer();
  } catch {
    return null;
  }
}
