// The app shell renders in the browser only: the same HTML for everyone, so the service worker can keep it
// and the app opens offline; data comes from the API and IndexedDB (web/lib/field).
export const ssr = false;
