/**
 * The `media` file of POST service request (GeoReport v2: "media — a file upload, multipart/form-data").
 * Kept as case evidence: the original for the handlers, and a public copy re-encoded by sharp as JPEG without
 * any metadata (EXIF GPS position, camera serial, time) behind the request's public `media_url`.
 *
 * - The type is sniffed from the bytes (file-type), never taken from the client's content-type or file name.
 * - Accepted: JPEG, PNG, WebP. HEIC/HEIF is refused clearly (415): the prebuilt libvips of sharp cannot
 *   decode it, so no metadata-free public copy could be made.
 * - At most MEDIA_MAX_BYTES (413 beyond). adapter-node's BODY_SIZE_LIMIT (512 KiB by default) applies to
 *   the whole request first: set it higher (e.g. BODY_SIZE_LIMIT=12M) to take phone photos.
 */
import sharp from 'sharp';
import { fileTypeFromBuffer } from 'file-type';
import { Open311Error } from './api.ts';
import type { Lang } from './lang.ts';

export const MEDIA_MAX_BYTES = 10 * 1024 * 1024;
export const MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** Longest side of the public copy, px. */
export const PUBLIC_MAX_PX = 2048;

export interface PreparedMedia {
  /** Sniffed type of the original. */
  mime: (typeof MEDIA_TYPES)[number];
  original: Buffer;
  /** image/jpeg, no metadata, at most PUBLIC_MAX_PX on its longest side. */
  publicJpeg: Buffer;
}

const zhen = (lang: Lang, zh: string, en: string) => (lang === 'zh' ? zh : en);

export function tooLarge(lang: Lang): Open311Error {
  return new Open311Error(
    413,
    zhen(
      lang,
      `media 文件不能超过 ${MEDIA_MAX_BYTES / 1024 / 1024} MB。`,
      `The media file is limited to ${MEDIA_MAX_BYTES / 1024 / 1024} MB.`,
    ),
  );
}

/** Check and convert an uploaded photo; throws Open311Error 413, 415 or 400. */
export async function prepareMedia(bytes: Buffer, lang: Lang): Promise<PreparedMedia> {
  if (bytes.length > MEDIA_MAX_BYTES) throw tooLarge(lang);
  if (bytes.length === 0) throw new Open311Error(400, zhen(lang, 'media 文件为空。', 'The media file is empty.'));
  const sniffed = await fileTypeFromBuffer(bytes);
  const mime = sniffed?.mime as string | undefined;
  if (!mime || !(MEDIA_TYPES as readonly string[]).includes(mime))
    throw new Open311Error(
      415,
      zhen(
        lang,
        `media 只接受 JPEG、PNG 或 WebP 图片（收到的是${mime ? ` ${mime}` : '无法识别的内容'}）。`,
        `media must be a JPEG, PNG or WebP image (got ${mime ?? 'content of no recognisable type'}).`,
      ),
    );
  let publicJpeg: Buffer;
  try {
    // rotate() applies the EXIF orientation before the metadata is dropped (sharp keeps none by default).
    publicJpeg = await sharp(bytes, { limitInputPixels: 50_000_000 })
      .rotate()
      .resize({ width: PUBLIC_MAX_PX, height: PUBLIC_MAX_PX, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85 })
      .toBuffer();
  } catch {
    throw new Open311Error(
      400,
      zhen(lang, 'media 图片已损坏，无法读取。', 'The media image is damaged and cannot be read.'),
    );
  }
  return { mime: mime as PreparedMedia['mime'], original: bytes, publicJpeg };
}
