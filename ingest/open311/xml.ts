/**
 * GeoReport v2 XML. The spec's JSON is a programmatic mapping of its XML (the "Spark convention"): a JSON
 * array is an XML element whose children are the singular of its name (`services` → `service`,
 * `attributes` → `attribute`, `values` → `value`, `endpoints` → `endpoint`, `formats` → `format`); a
 * top-level array is wrapped in its root (`service_requests` → `request`, `errors` → `error`). `null`
 * is an empty element (`<account_id/>`), booleans are `true`/`false`.
 *
 * Serialised with fast-xml-parser's XMLBuilder; text is escaped by us (`&`, `<`, `>`, and `\r` as
 * `&#13;` so that CR LF in a description survives an XML parser's line-end normalisation), and
 * characters XML 1.0 cannot carry at all (C0 controls other than tab, LF, CR; U+FFFE/U+FFFF; lone
 * surrogates) are dropped.
 */
import { XMLBuilder } from 'fast-xml-parser';

/** Plural element → its item element, for nested arrays. */
const ITEM: Record<string, string> = {
  services: 'service',
  attributes: 'attribute',
  values: 'value',
  endpoints: 'endpoint',
  formats: 'format',
  service_requests: 'request',
  errors: 'error',
};

const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Remove what XML 1.0 cannot carry. */
export function stripNonXmlChars(s: string): string {
  return s.replace(NOT_XML, '');
}

export function escapeXmlText(s: string): string {
  return stripNonXmlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

const builder = new XMLBuilder({
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: false,
  ignoreAttributes: true,
  tagValueProcessor: (_name: string, value: unknown) => escapeXmlText(String(value)),
});

type Json = string | number | boolean | null | undefined | Json[] | { [k: string]: Json };

/** JSON (the spec's shape) → the builder's object form, applying the plural/singular mapping. */
function toNode(value: Json, name: string): unknown {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    const item = ITEM[name];
    if (!item) throw new Error(`open311 xml: no item element for array "${name}"`);
    return value.length === 0 ? '' : { [item]: value.map((v) => toNode(v, item)) };
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = toNode(v, k);
    }
    return out;
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return value;
}

/**
 * The XML document for a GeoReport v2 response. `root` is the document element; `body` is the JSON
 * response (an array for `services`, `service_requests` and `errors`, an object otherwise).
 */
export function toXml(root: string, body: unknown): string {
  const node = toNode(body as Json, root);
  const xml = builder.build({ [root]: node }) as string;
  return `<?xml version="1.0" encoding="utf-8"?>\n${xml.trimEnd()}\n`;
}
