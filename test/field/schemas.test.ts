/**
 * One source for the field actions' request bodies (core/schemas/field.ts): the schemas ingest/field validates
 * with are the ones the OpenAPI document shows for POST /api/field/actions. A body the document accepts is one
 * the validator accepts, and the other way round, for samples of every kind; the validator names the field.
 */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../core/schemas/openapi.ts';
import { FIELD_ACTION_BODIES, FIELD_KINDS, parseFieldAction } from '../../core/schemas/field.ts';
import { parseTrackBatch } from '../../ingest/field/tracks.ts';
import { DomainError } from '../../core/errors.ts';

const doc = openApiDocument() as {
  paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: { oneOf: unknown[] } }> } }>>;
  components: { schemas: Record<string, unknown> };
};
const SHA = 'a'.repeat(64);
const key = randomUUID();
const caseRef = { key, caseId: 'C-1', version: 3 };

const samples: [string, unknown, boolean][] = [
  ['report', { key, kind: 'report', category: 'city_appearance.graffiti', location: [117.2, 39.1] }, true],
  [
    'report, full',
    {
      key,
      kind: 'report',
      category: 'city_appearance.graffiti',
      location: [117.2, 39.1],
      accuracyM: 8,
      fixTime: '2026-11-29T10:00:00Z',
      text: '乱涂乱画',
      photos: [SHA],
      selfHandled: { result: '已清除', after: [SHA] },
      createdAt: Date.now(),
      sentAt: Date.now(),
    },
    true,
  ],
  ['report off the globe', { key, kind: 'report', category: 'x', location: [517.2, 39.1] }, false],
  ['report without a category', { key, kind: 'report', location: [117.2, 39.1] }, false],
  ['report with a blank category', { key, kind: 'report', category: '  ', location: [117.2, 39.1] }, false],
  ['report, 10 photos', { key, kind: 'report', category: 'x', location: [1, 2], photos: Array(10).fill(SHA) }, false],
  ['report, a photo id not hex', { key, kind: 'report', category: 'x', location: [1, 2], photos: ['nope'] }, false],
  ['report, negative accuracy', { key, kind: 'report', category: 'x', location: [1, 2], accuracyM: -1 }, false],
  [
    'report, self-handled without result',
    { key, kind: 'report', category: 'x', location: [1, 2], selfHandled: { after: [] } },
    false,
  ],
  ['claim', { ...caseRef, kind: 'claim' }, true],
  ['claim without version', { key, kind: 'claim', caseId: 'C-1' }, false],
  ['claim, version not whole', { ...caseRef, kind: 'claim', version: 1.5 }, false],
  ['comment', { ...caseRef, kind: 'comment', note: '到场' }, true],
  ['comment without note', { ...caseRef, kind: 'comment' }, false],
  ['handle', { ...caseRef, kind: 'handle', result: '已处理', photos: [SHA] }, true],
  ['handle without result', { ...caseRef, kind: 'handle' }, false],
  ['verify', { ...caseRef, kind: 'verify', pass: true, location: [117.2, 39.1], override: '封路' }, true],
  ['verify, pass not boolean', { ...caseRef, kind: 'verify', pass: 'yes' }, false],
  ['verify, override too long', { ...caseRef, kind: 'verify', pass: true, override: 'x'.repeat(501) }, false],
  ['track', { key, kind: 'track', patrol: randomUUID(), fixes: [{ t: 1, lng: 117, lat: 39, accuracyM: 5 }] }, true],
  ['track, no fixes', { key, kind: 'track', patrol: randomUUID(), fixes: [] }, false],
  [
    'track, a fix off the globe',
    { key, kind: 'track', patrol: randomUUID(), fixes: [{ t: 1, lng: 190, lat: 39 }] },
    false,
  ],
  ['track, patrol not a UUID', { key, kind: 'track', patrol: 'p1', fixes: [{ t: 1, lng: 117, lat: 39 }] }, false],
  ['no key', { kind: 'claim', caseId: 'C-1', version: 3 }, false],
  ['key not a UUID', { ...caseRef, key: 'k1', kind: 'claim' }, false],
  ['unknown kind', { ...caseRef, kind: 'fly' }, false],
  ['not an object', [1, 2], false],
];

function accepted(body: unknown): boolean {
  try {
    parseFieldAction(body);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('validation_failed');
    return false;
  }
}

describe('field action schemas: one source for validation and the OpenAPI document', () => {
  it('the document shows the validators’ schemas, one per kind', () => {
    const shown = doc.paths['/api/field/actions'].post.requestBody.content['application/json'].schema.oneOf;
    expect(shown).toHaveLength(FIELD_KINDS.length);
    expect(Object.keys(FIELD_ACTION_BODIES).sort()).toEqual([...FIELD_KINDS].sort());
  });

  it('the document and the validator agree on samples of every kind', () => {
    const Ajv = (Ajv2020 as unknown as { default?: typeof Ajv2020 }).default ?? Ajv2020;
    const formats = (addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats;
    const ajv = new Ajv({ strict: false, allErrors: true });
    formats(ajv);
    const schema = doc.paths['/api/field/actions'].post.requestBody.content['application/json'].schema;
    const check = ajv.compile({ oneOf: schema.oneOf });
    for (const [what, body, good] of samples) {
      expect(check(body), `document: ${what}`).toBe(good);
      expect(accepted(body), `validator: ${what}`).toBe(good);
    }
  });

  it('names the field at fault', () => {
    const field = (body: unknown) => {
      try {
        parseFieldAction(body);
      } catch (e) {
        return ((e as DomainError).details as { field: string }).field;
      }
      return null;
    };
    expect(field({ kind: 'claim', caseId: 'C', version: 1 })).toBe('key');
    expect(field({ key, kind: 'report', category: 'x', location: [1, 2], photos: ['x'] })).toMatch(/^photos/);
    expect(
      field({
        key,
        kind: 'track',
        patrol: randomUUID(),
        fixes: [
          { t: 1, lng: 1, lat: 2 },
          { t: 2, lng: 1 },
        ],
      }),
    ).toMatch(/^fixes\.1/);
    // The track batch alone (as the bench and ingest/field/tracks.ts take it) uses the same schema.
    expect(() => parseTrackBatch({ patrol: randomUUID(), fixes: [{ t: 1, lng: 1, lat: 200 }] })).toThrow(DomainError);
    expect(parseTrackBatch({ patrol: randomUUID(), fixes: [{ t: 1, lng: 1, lat: 2 }] }).fixes[0].accuracyM).toBeNull();
  });
});
