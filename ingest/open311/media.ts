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
import { publicCopy, sniffPhoto, type PhotoType } from '../media/photo.ts';
import { Open311Error } from './api.ts';
import type { Lang } from './lang.ts';

export const MEDIA_MAX_BYTES = 10 * 1024 * 1024;

export interface PreparedMedia {
  /** Sniffed type of the original. */
  mime: PhotoType;
  original: Buffer;
  /** image/jpeg, no metadata, at most PUBLIC_MAX_PX on its longest side (ingest/media/photo.ts). */
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
  const { photo, sniffed: mime } = await sniffPhoto(bytes);
  if (!photo)
    throw new Open311Error(
      415,
      zhen(
        lang,
        `media 只接受 JPEG、PNG 或 WebP 图片（收到的是${mime ? ` ${mime}` : '无法识别的内容'}）。`,
        `media must be a JPEG, PNG or WebP image (got ${mime ?? 'content of no recognisable type'}).`,
      ),
    );
  const publicJpeg = await publicCopy(bytes);
  if (!publicJpeg)
    throw new Open311Error(
      400,
      zhen(lang, 'media 图片已损坏，无法读取。', 'The media image is damaged and cannot be read.'),
    );
  return { mime: photo, original: bytes, publicJpeg };
}
