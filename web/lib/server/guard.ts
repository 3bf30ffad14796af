/**
 * Request hygiene applied to every request in web/hooks.server.ts, before any route runs, and the security
 * headers of every response (README "Security"):
 *
 * - U+0000 in the path, the query or any field of a JSON or form body → 400 `bad_request` (PostgreSQL text
 *   cannot hold it; it is never a legitimate character in a title, a filter or a name).
 * - A body over the adapter's limit (adapter-node `BODY_SIZE_LIMIT`, default 512 KiB) → 413
 *   `payload_too_large`, in the JSON error envelope.
 * - Unknown `/api/*` paths → JSON 404 `not_found` (not the HTML error page).
 * - Headers: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` (with CSP `frame-ancestors 'none'`
 *   from svelte.config.js), `Referrer-Policy: same-origin`, a `Permissions-Policy` that turns off what the
 *   platform never uses, `Cache-Control: no-store` on every `/api/*` answer, and HSTS only when the request
 *   reached us over HTTPS (the adapter's protocol, from `X-Forwarded-Proto` of the TLS proxy in front).
 */
const BODY_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

export const PERMISSIONS_POLICY =
  'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), midi=(), ' +
  'magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), interest-cohort=(), fullscreen=(self)';
export const HSTS = 'max-age=31536000; includeSubDomains';
/** The grid worker's app (/m) uses the phone's position and camera, on our own origin only. */
export const FIELD_PERMISSIONS_POLICY = PERMISSIONS_POLICY.replace('camera=()', 'camera=(self)').replace(
  'geolocation=()',
  'geolocation=(self)',
);

export function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 64 || v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => hasNul(x, depth + 1));
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x, depth + 1));
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** 400 / 413 for a request we refuse before any route sees it; null when it may go on. */
export async function requestRefusal(request: Request, url: URL): Promise<Response | null> {
  if (
    url.pathname.includes('\u0000') ||
    decoded(url.pathname).includes('\u0000') ||
    decoded(url.search).includes('\u0000')
  )
    return jsonError(400, 'bad_request', 'the URL contains a U+0000 (NUL) character');
  if (!BODY_METHODS.includes(request.method) || request.body === null) return null;
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const json = type === 'application/json' || type.endsWith('+json');
  const form = type === 'application/x-www-form-urlencoded';
  if (type === 'multipart/form-data') return multipartRefusal(request);
  if (!json && !form && type !== 'text/plain') return null; // binary bodies: the route reads them
  let text: string;
  try {
    text = await request.clone().text();
  } catch (e) {
    if ((e as { status?: unknown })?.status === 413)
      return jsonError(413, 'payload_too_large', (e as Error).message || 'request body too large');
    return jsonError(400, 'bad_request', 'the request body could not be read');
  }
  let nul = text.includes('\u0000');
  if (!nul && json && text.includes('\\u0000')) {
    try {
      nul = hasNul(JSON.parse(text));
    } catch {
      /* malformed JSON: the route answers it */
    }
  }
  if (!nul && form)
    for (const [k, v] of new URLSearchParams(text)) if (k.includes('\u0000') || v.includes('\u0000')) nul = true;
  return nul ? jsonError(400, 'bad_request', 'the request body contains a U+0000 (NUL) character') : null;
}

/** Multipart bodies: the text fields must not hold U+0000 either (file parts are the route's to judge). */
async function multipartRefusal(request: Request): Promise<Response | null> {
  let data: FormData;
  try {
    data = await request.clone().formData();
  } catch (e) {
    if ((e as { status?: unknown })?.status === 413)
      return jsonError(413, 'payload_too_large', (e as Error).message || 'request body too large');
    return null; // malformed multipart: the route answers it
  }
  for (const [k, v] of data)
    if (k.includes('\u0000') || (typeof v === 'string' && v.includes('\u0000')))
      return jsonError(400, 'bad_request', 'the request body contains a U+0000 (NUL) character');
  return null;
}

/** Directives a configured tile server's origin joins (map tiles, style, glyphs, sprites). */
const BASEMAP_DIRECTIVES = ['connect-src', 'img-src', 'font-src'];

/**
 * The page's CSP with `origins` (the intranet basemap's, README "Basemap") added to connect-src, img-src and
 * font-src; other directives unchanged. Unparsable origins are ignored.
 */
export function widenCsp(csp: string, origins: readonly (string | null | undefined)[]): string {
  const extra = [
    ...new Set(
      origins.flatMap((o) => {
        try {
          return o ? [new URL(o).origin] : [];
        } catch {
          return [];
        }
      }),
    ),
  ].filter((o) => o !== 'null');
  if (!extra.length) return csp;
  return csp
    .split(';')
    .map((d) => {
      const name = d.trim().split(/\s+/)[0];
      return BASEMAP_DIRECTIVES.includes(name) ? `${d.trim()} ${extra.join(' ')}` : d.trim();
    })
    .join('; ');
}

/** Security headers on every response (see the module comment). */
export function secureHeaders(
  response: Response,
  url: URL,
  cspOrigins: readonly (string | null | undefined)[] = [],
): Response {
  let h: Headers;
  try {
    h = response.headers;
    h.set('x-content-type-options', 'nosniff');
  } catch {
    // Immutable headers (a fetched Response passed through): copy it.
    response = new Response(response.body, response);
    h = response.headers;
    h.set('x-content-type-options', 'nosniff');
  }
  h.set('x-frame-options', 'DENY');
  // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a plain form post
  // (Fetch, "serializing a request origin"), which the CSRF check rightly refuses — the sign-in form without
  // its script stopped working. same-origin still sends no referrer to any other site.
  h.set('referrer-policy', 'same-origin');
  h.set('permissions-policy', /^\/m(\/|$)/.test(url.pathname) ? FIELD_PERMISSIONS_POLICY : PERMISSIONS_POLICY);
  h.set('cross-origin-opener-policy', 'same-origin');
  if (url.protocol === 'https:') h.set('strict-transport-security', HSTS);
  if (url.pathname.startsWith('/api/')) h.set('cache-control', 'no-store');
  const csp = h.get('content-security-policy');
  if (csp && cspOrigins.length) h.set('content-security-policy', widenCsp(csp, cspOrigins));
  return response;
}
