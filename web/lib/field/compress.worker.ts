/**
 * Web Worker that compresses one photo off the main thread (browser-image-compression runs on an
 * OffscreenCanvas inside a worker). Its own `useWebWorker` would load the library from a CDN — not offline, not
 * under our CSP — so it is off here: this file is the worker, bundled by Vite from our own origin.
 *
 * Message in: { id: string, blob: Blob, maxBytes: number, maxEdge: number }.
 * Message out: { id, blob: Blob } or { id, error: string }.
 */
import imageCompression from 'browser-image-compression';

interface Job {
  id: string;
  blob: Blob;
  maxBytes: number;
  maxEdge: number;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(m: unknown): void;
};

scope.onmessage = async (e) => {
  const { id, blob, maxBytes, maxEdge } = e.data;
  try {
    const file = new File([blob], `${id}.jpg`, { type: blob.type || 'image/jpeg' });
    const out = await imageCompression(file, {
      maxSizeMB: maxBytes / 1024 / 1024,
      maxWidthOrHeight: maxEdge,
      useWebWorker: false,
      fileType: 'image/jpeg',
      preserveExif: true,
      initialQuality: 0.8,
    });
    scope.postMessage({ id, blob: out });
  } catch (err) {
    scope.postMessage({ id, error: String(err) });
  }
};
