/**
 * HTTP framing for the GeoReport v2 endpoints, with web-standard Request/Response (what SvelteKit's
 * `+server.ts` handlers get): the `.json`/`.xml` suffix, POST bodies (form-encoded as the spec says,
 * multipart, or JSON), and rendering a result or the spec's error list in either format.
 */
import { Open311Error, type Open311Result, type PostInput } from './api.ts';
import { pickLang, type Lang } from './lang.ts';
import { MEDIA_MAX_BYTES, tooLarge } from './media.ts';
import { toXml } from './xml.ts';

export type Format = 'json' | 'xml';

export const CONTENT_TYPE: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'text/xml; charset=utf-8',
};

/** Form and JSON bodies; a multipart body may carry a `media` file of up to MEDIA_MAX_BYTES besides. */
export const MAX_BODY_BYTES = 64 * 1024;

/** `services.json` → {name: 'services', format: 'json'}; the format is the text after the last dot. */
export function splitFormat(file: string): { name: string; format: Format | null; ext: string | null } {
  const i = file.lastIndexOf('.');
  if (i <= 0) return { name: file, format: null, ext: null };
  const ext = file.slice(i + 1).toLowerCase();
  return { name: file.slice(0, i), format: ext === 'json' || ext === 'xml' ? ext : null, ext };
}

/**
 * The origin clients reach us at, for the URLs in discovery. adapter-node takes it from ORIGIN (or
 * PROTOCOL_HEADER/HOST_HEADER) and otherwise assumes https; the platform serves plain HTTP, so without
 * those the scheme is http unless a proxy says X-Forwarded-Proto.
 */
export function publicOrigin(request: Request, url: URL): string {
  if (process.env.ORIGIN || process.env.PROTOCOL_HEADER) return url.origin;
  const h = request.headers;
  const first = (v: string | null) => (v ?? '').split(',')[0].trim();
  const proto = first(h.get('x-forwarded-proto')).toLowerCase();
  const scheme = proto === 'https' || proto === 'http' ? proto : 'http';
  const host = first(h.get('x-forwarded-host')) || h.get('host') || url.host;
  return `${scheme}://${host}`;
}

export function langOf(request: Request): Lang {
  return pickLang(request.headers.get('accept-language'));
}

function baseHeaders(format: Format, lang: Lang): Record<string, string> {
  return {
    'content-type': CONTENT_TYPE[format],
    'content-language': lang === 'zh' ? 'zh-CN' : 'en',
    vary: 'Accept-Language',
    'cache-control': 'no-store',
    // Open data: any site may read it (POST needs an api_key, not a cookie).
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'Open311-Token, Open311-Duplicate-Of, Retry-After',
  };
}

export function render(format: Format, result: Open311Result, lang: Lang): Response {
  const text = format === 'json' ? JSON.stringify(result.body) : toXml(result.root, result.body);
  return new Response(text, { status: result.status, headers: { ...baseHeaders(format, lang), ...result.headers } });
}

export function renderError(format: Format, e: Open311Error, lang: Lang): Response {
  const text = format === 'json' ? JSON.stringify(e.errors) : toXml('errors', e.errors);
  return new Response(text, { status: e.status, headers: { ...baseHeaders(format, lang), ...e.headers } });
}

/**
 * Run a method for the path's file name: an unknown or missing format is 404 (in JSON, as there is no
 * telling which the client reads); an Open311Error is rendered in the asked format; anything unexpected
 * is logged and answered 500 in the spec's error shape.
 */
export async function handle(
  request: Request,
  file: string,
  expect: string | null,
  run: (ctx: { name: string; format: Format; lang: Lang }) => Promise<Open311Result> | Open311Result,
  log?: { error(obj: object, msg: string): void },
): Promise<Response> {
  const lang = langOf(request);
  const { name, format } = splitFormat(file);
  if (!format || (expect !== null && name !== expect)) {
    const what = expect ?? name;
    return renderError(
      'json',
      new Open311Error(
        404,
        lang === 'zh'
          ? `没有这个资源：${file}。请在路径后加 .json 或 .xml，如 ${what}.json。`
          : `No such resource: ${file}. Add .json or .xml to the path, e.g. ${what}.json.`,
      ),
      lang,
    );
  }
  try {
    return render(format, await run({ name, format, lang }), lang);
  } catch (e) {
    if (e instanceof Open311Error) return renderError(format, e, lang);
    log?.error({ err: e, path: new URL(request.url).pathname }, 'open311: unexpected error');
    return renderError(format, new Open311Error(500, lang === 'zh' ? '服务器内部错误。' : 'Internal error.'), lang);
  }
}

/** Fields of a POST: form-encoded (the spec), multipart, or JSON; the query string fills what the body lacks. */
export async function readPost(request: Request, lang: Lang): Promise<PostInput> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const len = Number(request.headers.get('content-length') ?? 0);
  const tooBig = () =>
    new Open311Error(
      400,
      lang === 'zh'
        ? `请求体不能超过 ${MAX_BODY_BYTES} 字节。`
        : `The request body is limited to ${MAX_BODY_BYTES} bytes.`,
    );
  const multipart = type === 'multipart/form-data';
  if (multipart ? len > MAX_BODY_BYTES + MEDIA_MAX_BYTES : len > MAX_BODY_BYTES)
    throw multipart ? tooLarge(lang) : tooBig();
  const pairs: [string, string][] = [];
  const jsonAttributes: Record<string, string | string[]> = {};
  let media: Buffer | undefined;
  if (multipart) {
    let form: FormData;
    try {
      form = await request.formData();
    } catch (e) {
      // adapter-node's BODY_SIZE_LIMIT ends the body with a 413 error while it is read.
      if ((e as { status?: unknown } | null)?.status === 413) throw tooLarge(lang);
      throw new Open311Error(400, lang === 'zh' ? '表单无法解析。' : 'The form data could not be read.');
    }
    for (const [k, v] of form.entries()) {
      if (typeof v === 'string') pairs.push([k, v]);
      else if (k === 'media') {
        // GeoReport v2: `media` is one file. A second one is refused rather than silently dropped.
        if (media)
          throw new Open311Error(
            400,
            lang === 'zh' ? '只能上传一个 media 文件。' : 'Only one media file may be uploaded.',
          );
        if (v.size > MEDIA_MAX_BYTES) throw tooLarge(lang);
        media = Buffer.from(await v.arrayBuffer());
      } else
        throw new Open311Error(
          400,
          lang === 'zh'
            ? `不支持上传文件字段 ${k}：照片请用 media 字段。`
            : `File field ${k} is not accepted: send a photo as media.`,
        );
    }
  } else {
    const text = await request.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooBig();
    if (type === 'application/json' || (type === '' && /^\s*[{[]/.test(text))) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Open311Error(400, lang === 'zh' ? '请求体不是有效的 JSON。' : 'The body is not valid JSON.');
      }
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new Open311Error(400, lang === 'zh' ? '请求体必须是 JSON 对象。' : 'The body must be a JSON object.');
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (k === 'attribute' && v && typeof v === 'object' && !Array.isArray(v)) {
          for (const [ak, av] of Object.entries(v as Record<string, unknown>)) {
            const val = scalarOrList(av);
            if (val !== undefined) jsonAttributes[ak] = val;
          }
          continue;
        }
        const val = scalarOrList(v);
        if (typeof val === 'string') pairs.push([k, val]);
        else if (Array.isArray(val)) for (const x of val) pairs.push([k, x]);
      }
    } else {
      for (const [k, v] of new URLSearchParams(text)) pairs.push([k, v]);
    }
  }
  const query = [...new URL(request.url).searchParams];
  const input = collect([...query.filter(([k]) => !pairs.some(([pk]) => pk === k)), ...pairs], jsonAttributes);
  return media ? { ...input, media } : input;
}

function scalarOrList(v: unknown): string | string[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.filter((x) => ['string', 'number', 'boolean'].includes(typeof x)).map(String);
  return undefined;
}

const ATTR = /^attribute\[([^\]]+)\](\[\])?$/;

/** Split `attribute[code]` / `attribute[code][]` pairs from the other fields (last value of a field wins). */
export function collect(pairs: [string, string][], attributes: Record<string, string | string[]> = {}): PostInput {
  const fields: Record<string, string> = {};
  const attrs: Record<string, string | string[]> = { ...attributes };
  for (const [k, v] of pairs) {
    const m = ATTR.exec(k);
    if (m) {
      const code = m[1];
      const prev = attrs[code];
      if (m[2] || prev !== undefined)
        attrs[code] = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), v];
      else attrs[code] = v;
    } else fields[k] = v;
  }
  return { fields, attributes: attrs };
}
