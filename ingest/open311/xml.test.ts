import { XMLParser } from 'fast-xml-parser';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { escapeXmlText, stripNonXmlChars, toXml } from './xml.ts';

const parser = new XMLParser({
  parseTagValue: false,
  htmlEntities: true,
  isArray: (name) => ['service', 'request', 'error', 'attribute', 'value', 'endpoint', 'format'].includes(name),
});

describe('toXml', () => {
  it('starts with the UTF-8 declaration and wraps top-level arrays in their root', () => {
    const xml = toXml('errors', [{ code: 403, description: 'Invalid api_key' }]);
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<errors>')).toBe(true);
    const doc = parser.parse(xml);
    expect(doc.errors.error).toEqual([{ code: '403', description: 'Invalid api_key' }]);
  });

  it('maps nested arrays to singular children (Spark convention), null to an empty element', () => {
    const xml = toXml('service_definition', {
      service_code: 'x',
      attributes: [
        { variable: true, code: 'a', datatype_description: null, order: 1, values: [{ key: 'k', name: 'n' }] },
      ],
    });
    expect(xml).toContain('<datatype_description/>');
    expect(xml).toContain('<variable>true</variable>');
    const doc = parser.parse(xml);
    expect(doc.service_definition.attributes.attribute[0].values.value).toEqual([{ key: 'k', name: 'n' }]);
  });

  it('writes an empty list as an empty element', () => {
    expect(toXml('services', [])).toContain('<services/>');
    expect(toXml('service_definition', { service_code: 'x', attributes: [] })).toContain('<attributes/>');
  });

  it('lists scalars (formats) as repeated elements', () => {
    const doc = parser.parse(toXml('discovery', { endpoints: [{ formats: ['text/xml', 'application/json'] }] }));
    expect(doc.discovery.endpoints.endpoint[0].formats.format).toEqual(['text/xml', 'application/json']);
  });

  it('escapes markup so that <script>, & and quotes round-trip as text', () => {
    const nasty = `<script>alert("x&y")</script> & 'q' ]]> <![CDATA[ x ]]> &amp; 井盖`;
    const xml = toXml('service_requests', [{ service_request_id: 'A', description: nasty }]);
    expect(xml).not.toContain('<script>');
    expect(parser.parse(xml).service_requests.request[0].description).toBe(nasty);
    const dom = new DOMParser().parseFromString(xml, 'text/xml');
    expect(dom.getElementsByTagName('description')[0].textContent).toBe(nasty);
  });

  it('keeps CR LF through an XML parser (CR as a character reference)', () => {
    const text = 'line 1\r\nline 2\nline 3\r.';
    const xml = toXml('service_requests', [{ description: text }]);
    expect(parser.parse(xml).service_requests.request[0].description).toBe(text);
    const dom = new DOMParser().parseFromString(xml, 'text/xml');
    expect(dom.getElementsByTagName('description')[0].textContent).toBe(text);
  });

  it('drops characters XML 1.0 cannot carry', () => {
    expect(stripNonXmlChars('a\u0000b\u0007c\td\ne\uFFFEf\uD800g')).toBe('abc\td\nefg');
    expect(stripNonXmlChars('😀')).toBe('😀');
    expect(escapeXmlText('a\u0001<')).toBe('a&lt;');
  });

  it('refuses an array it has no element name for', () => {
    expect(() => toXml('discovery', { unknown_list: [1] })).toThrow(/no item element/);
  });
});
