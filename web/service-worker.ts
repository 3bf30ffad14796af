/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * Service worker (SvelteKit: kit.files.serviceWorker = web/service-worker): keeps the app's built files and
 * the grid worker app's shell (/m) so that /m opens offline after its first load. Only /m navigations and the
 * built assets are answered from the cache; the API, the wall and everything else go to the network as
 * before (the app keeps its data in IndexedDB, web/lib/field/outbox.ts).
 */
import { build, files, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `og-field-${version}`;
const SHELL = '/m';
const ASSETS = new Set([...build, ...files.filter((f) => /\.(svg|webmanifest|png)$/.test(f))]);

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll([...ASSETS]);
      // The shell: the same HTML for everyone (web/routes/m/+layout.ts: ssr = false).
      await cache.add(SHELL).catch(() => {});
      await cache.add(`${SHELL}/__data.json`).catch(() => {});
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin) return;
  if (ASSETS.has(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit ?? fetch(req)));
    return;
  }
  // The shell, and the layout data SvelteKit's client asks for when it starts a page rendered without SSR.
  const key =
    req.mode === 'navigate' && (url.pathname === SHELL || url.pathname.startsWith(`${SHELL}/`))
      ? SHELL
      : url.pathname === `${SHELL}/__data.json`
        ? url.pathname
        : null;
  if (!key) return;
  // Network first (fresh when online), the kept copy when not.
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const r = await fetch(req);
        if (r.ok) await cache.put(key, r.clone());
        return r;
      } catch {
        return (await cache.match(key)) ?? Response.error();
      }
    })(),
  );
});
