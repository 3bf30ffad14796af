/**
 * OpenAPI paths of the grid worker's app (网格通, `/m`; ingest/field), spread into the document by openapi.ts.
 * Coordinates [lng, lat] WGS-84; times epoch ms or ISO-8601 as noted; errors in the common envelope.
 */
import { FIELD_ACTION_BODIES } from './field.ts';
import { jsonSchema } from './openapi.ts';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const err = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const body = (schema: Json, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const lngLat = {
  type: 'array',
  prefixItems: [{ type: 'number' }, { type: 'number' }],
  minItems: 2,
  maxItems: 2,
  description: '[lng, lat] WGS-84',
};
const uuid = { type: 'string', format: 'uuid' };
const anyObject = { type: 'object', additionalProperties: true };
const uploadState = {
  type: 'object',
  properties: {
    id: uuid,
    size: { type: 'integer' },
    received: { type: 'integer', description: 'bytes stored: resume from here' },
    sha256: { type: ['string', 'null'] },
  },
};
const photo = {
  type: 'object',
  properties: {
    sha256: { type: 'string' },
    mime: { type: 'string', enum: ['image/jpeg', 'image/png', 'image/webp'] },
    size: { type: 'integer' },
    takenAt: { type: ['string', 'null'], description: 'EXIF DateTimeOriginal' },
    location: { oneOf: [lngLat, { type: 'null' }], description: 'EXIF GPS [lng, lat]' },
  },
};
/**
 * The outbox record kinds of POST /api/field/actions: the very TypeBox schemas ingest/field validates with
 * (core/schemas/field.ts), as plain JSON Schema.
 */
export const FIELD_ACTION_SCHEMAS: Record<string, Json> = Object.fromEntries(
  Object.entries(FIELD_ACTION_BODIES).map(([kind, schema]) => [kind, jsonSchema(schema)]),
);

export function fieldPaths(): Json {
  return {
    '/api/field/actions': {
      post: {
        summary:
          'One outbox record of the grid worker’s app, exactly once: the first answer to `key` is stored and a repeated key gets it again (header Idempotent-Replayed: true)',
        requestBody: body(
          { oneOf: Object.values(FIELD_ACTION_SCHEMAS), discriminator: { propertyName: 'kind' } },
          'the record',
        ),
        responses: {
          '200': body(
            anyObject,
            'claim/handle/comment/verify: {case, photos}; track: {accepted, dropped, clockSkewMs, clockFlagged}',
          ),
          '201': body(anyObject, 'report: {case, photos: [{sha256, role, evidence, publicEvidence}]}'),
          '400': err('validation_failed'),
          '401': err('unauthorized'),
          '403': err('forbidden or outside_scope (a report outside my grid, a case not mine)'),
          '409': err('conflict (the key was used for another record or by another user) or stale_version'),
          '422': err(
            'illegal_transition, or too_far: a check away from the case without an override (details.distanceM, details.limitM)',
          ),
        },
      },
    },
    '/api/field/tasks': {
      get: {
        summary:
          'My tasks: {dispatched: cases dispatched to me, checks: handled cases in my grid I may verify, reported: my recent reports}, each with `actions`',
        responses: { '200': body(anyObject), '401': err('unauthorized') },
      },
    },
    '/api/field/uploads': {
      post: {
        summary: 'Start (or, with the same id, resume) a chunked photo upload: {id: UUID, size: bytes ≤ 12 MiB}',
        requestBody: body({
          type: 'object',
          required: ['id', 'size'],
          properties: { id: uuid, size: { type: 'integer', minimum: 1 } },
        }),
        responses: {
          '201': body({
            ...uploadState,
            properties: { ...uploadState.properties, chunkMaxBytes: { type: 'integer' } },
          }),
          '400': err('validation_failed'),
          '401': err('unauthorized'),
          '409': err('conflict: the id was started with another size'),
          '413': err('payload_too_large'),
        },
      },
    },
    '/api/field/uploads/{id}': {
      get: {
        summary: 'Where an upload stands (resume from `received`)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: uuid }],
        responses: {
          '200': body(uploadState),
          '401': err('unauthorized'),
          '404': err('not_found (also another user’s upload)'),
        },
      },
      put: {
        summary:
          'A chunk (raw bytes, ≤ 256 KiB) starting at the byte offset in the Upload-Offset header (or ?offset=); bytes already received are skipped',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: uuid },
          { name: 'Upload-Offset', in: 'header', required: false, schema: { type: 'integer', minimum: 0 } },
          { name: 'offset', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
        ],
        requestBody: {
          content: {
            'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
          },
        },
        responses: {
          '200': body(uploadState),
          '400': err('validation_failed'),
          '401': err('unauthorized'),
          '404': err('not_found'),
          '409': err('conflict: the chunk starts past what arrived; details.received is where to resume'),
          '413': err('payload_too_large'),
        },
      },
    },
    '/api/field/uploads/{id}/complete': {
      post: {
        summary:
          'Finish an upload: type sniffed from the bytes, size capped, stored once by SHA-256 with a copy without metadata for public views; answers the photo id (sha256) with its EXIF time and GPS',
        parameters: [{ name: 'id', in: 'path', required: true, schema: uuid }],
        responses: {
          '200': body(photo),
          '400': err('validation_failed: a damaged image'),
          '401': err('unauthorized'),
          '404': err('not_found'),
          '409': err('conflict: bytes missing (details.received)'),
          '413': err('payload_too_large'),
          '415': err('unsupported_media: not JPEG, PNG or WebP (HEIC is refused)'),
        },
      },
    },
    '/api/field/patrols': {
      get: {
        summary:
          'Patrol figures per grid worker and day: distance (m), duration (s), coverage (0..1 of the assigned grid within 25 m of the track), gaps, fixes, reports, clockFlagged. A grid worker sees its own only',
        parameters: [
          {
            name: 'day',
            in: 'query',
            required: false,
            schema: { type: 'string', format: 'date' },
            description: 'YYYY-MM-DD in TZ; default today',
          },
          { name: 'worker', in: 'query', required: false, schema: { type: 'string' } },
        ],
        responses: { '200': body(anyObject), '400': err('validation_failed'), '401': err('unauthorized') },
      },
    },
  };
}
