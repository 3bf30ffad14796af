import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build', precompress: false }),
    files: {
      src: 'web',
      lib: 'web/lib',
      routes: 'web/routes',
      appTemplate: 'web/app.html',
      errorTemplate: 'web/error.html',
      assets: 'web/static',
      hooks: { server: 'web/hooks.server', client: 'web/hooks.client', universal: 'web/hooks' },
      params: 'web/params',
      serviceWorker: 'web/service-worker',
    },
    alias: { $core: 'core' },
    // The service worker (web/service-worker.ts) is for the grid worker's app only: /m registers it with scope
    // /m, so the wall and the other pages never download the offline cache.
    serviceWorker: { register: false },
    // The wall is served from our own Node server. The origin check for cross-site form posts is done in
    // web/hooks.server.ts (web/lib/server/csrf.ts) instead of here, so that Open311 clients can POST
    // form-encoded service requests without an Origin header, as GeoReport v2 says; '*' turns the
    // built-in check off.
    csrf: { trustedOrigins: ['*'] },
    // Content-Security-Policy of every page (README "Security"). SvelteKit adds a nonce for its own inline
    // bootstrap script. The wall needs: maplibre-gl's workers (blob:), deck.gl/WebGL, JSMpeg's WebAssembly
    // decoder ('wasm-unsafe-eval'), MSE video (blob: media), same-origin WebSockets (/live, /video), map
    // tiles and sprites from our own server; Svelte's style attributes need 'unsafe-inline' for styles only.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'wasm-unsafe-eval'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        'font-src': ['self', 'data:'],
        'connect-src': ['self', 'data:', 'blob:'],
        'media-src': ['self', 'blob:'],
        'worker-src': ['self', 'blob:'],
        'child-src': ['self', 'blob:'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['none'],
      },
    },
  },
};

export default config;
