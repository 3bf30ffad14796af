/**
 * Photos attached to a case (接件附件, 处置照片): scaled in the browser to at most 1600 px on the long side
 * as JPEG (a phone photo of 4000 px and 5 MB becomes a few hundred KiB, under the server's 512 KiB bound),
 * then posted as the request body to `POST /api/cases/{id}/evidence?kind=…`.
 */
import type { Result } from './api.ts';

export const PHOTO_MAX_PX = 1600;
const MAX_BYTES = 512 << 10;

/** The photo as a JPEG no larger than PHOTO_MAX_PX; the file itself when it is already small enough. */
export async function scalePhoto(file: Blob): Promise<Blob> {
  const bmp = await createImageBitmap(file);
  const k = Math.min(1, PHOTO_MAX_PX / Math.max(bmp.width, bmp.height));
  if (k === 1 && file.size <= MAX_BYTES && /^image\/(jpeg|png|webp)$/.test(file.type)) {
    bmp.close();
    return file;
  }
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bmp.width * k));
  canvas.height = Math.max(1, Math.round(bmp.height * k));
  canvas.getContext('2d')!.drawImage(bmp, 0, 0, canvas.width, canvas.height);
  bmp.close();
  for (const quality of [0.85, 0.7, 0.5]) {
    const blob = await new Promise<Blob | null>((res) => canvas.toBlob(res, 'image/jpeg', quality));
    if (blob && blob.size <= MAX_BYTES) return blob;
  }
  throw new Error('the photo cannot be made small enough');
}

/** Upload one photo; the evidence url on success. */
export async function uploadPhoto(
  caseId: string,
  file: Blob,
  kind: 'attachment' | 'photo',
): Promise<Result<{ id: number; url: string }>> {
  let body: Blob;
  try {
    body = await scalePhoto(file);
  } catch (e) {
    return { ok: false, status: 0, code: 'bad_photo', message: (e as Error).message };
  }
  try {
    const r = await fetch(`/api/cases/${encodeURIComponent(caseId)}/evidence?kind=${kind}`, {
      method: 'POST',
      headers: { 'content-type': body.type || 'image/jpeg', accept: 'application/json' },
      body,
    });
    const data = (await r.json().catch(() => null)) as {
      id: number;
      url: string;
      error?: { code?: string; message?: string };
    } | null;
    if (r.ok && data) return { ok: true, status: r.status, data };
    return {
      ok: false,
      status: r.status,
      code: data?.error?.code ?? `http_${r.status}`,
      message: data?.error?.message ?? r.statusText,
    };
  } catch (e) {
    return { ok: false, status: 0, code: 'network', message: (e as Error).message };
  }
}

/** Upload several; stops at the first failure (so the action is not sent with half its photos). */
export async function uploadPhotos(
  caseId: string,
  files: Iterable<File>,
  kind: 'attachment' | 'photo',
): Promise<{ ok: true; urls: string[] } | { ok: false; message: string }> {
  const urls: string[] = [];
  for (const f of files) {
    const r = await uploadPhoto(caseId, f, kind);
    if (!r.ok) return { ok: false, message: `${f.name}: ${r.code}: ${r.message}` };
    urls.push(r.data.url);
  }
  return { ok: true, urls };
}
