/** Small fetch helpers for the wall: JSON or a typed failure, never a thrown network error to the UI. */
import type { ApiErrorBody } from './types.ts';

export type Result<T> =
  { ok: true; status: number; data: T } | { ok: false; status: number; code: string; message: string; data?: unknown };

export async function getJson<T>(url: string, init: RequestInit = {}): Promise<Result<T>> {
  try {
    const r = await fetch(url, { ...init, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
    const text = await r.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: e.g. a 404 page before a route lands */
    }
    if (r.ok) return { ok: true, status: r.status, data: body as T };
    const e = (body as ApiErrorBody | null)?.error;
    return {
      ok: false,
      status: r.status,
      code: e?.code ?? `http_${r.status}`,
      message: e?.message ?? r.statusText,
      data: body,
    };
  } catch (e) {
    if ((e as Error).name === 'AbortError') return { ok: false, status: 0, code: 'aborted', message: 'aborted' };
    return { ok: false, status: 0, code: 'network', message: (e as Error).message };
  }
}

export function postJson<T>(url: string, body: unknown, init: RequestInit = {}): Promise<Result<T>> {
  return getJson<T>(url, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
