/**
 * Cross-site form submission check, in place of SvelteKit's built-in one (svelte.config.js sets
 * `csrf.trustedOrigins: ['*']`, which turns the built-in one off): the same rule — a POST/PUT/PATCH/DELETE
 * with a form content type must come from our own origin — except under `/open311/`. Open311 GeoReport v2
 * clients are servers and apps that POST `application/x-www-form-urlencoded` without an Origin header, as
 * the spec says, and authenticate with an `api_key` in the body, never with our session cookie, so a
 * cross-site form there cannot act as a signed-in user.
 */
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];
// Camera alarm pushes (/api/intake/…) come from cameras, authenticated by HTTP Basic, never by our cookie.
const EXEMPT = /^\/(open311(\/|$)|api\/intake\/(isapi|dahua)\/)/;

/** A 403 response when the request is a cross-site form submission we refuse, else null. */
export function csrfRefusal(request: Request, url: URL): Response | null {
  if (!UNSAFE.includes(request.method) || EXEMPT.test(url.pathname)) return null;
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!FORM_TYPES.includes(type)) return null;
  if (request.headers.get('origin') === url.origin) return null;
  const message = `Cross-site ${request.method} form submissions are forbidden`;
  return request.headers.get('accept') === 'application/json'
    ? Response.json({ message }, { status: 403 })
    : new Response(message, { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
