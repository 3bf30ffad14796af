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
    // The wall is served from our own Node server; CSRF origin checks stay on (default).
  },
};

export default config;
