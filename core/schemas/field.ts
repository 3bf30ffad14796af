/**
 * Request bodies of the grid worker's app (网格通): the records of its outbox, sent to POST /api/field/actions.
 * The one source of their shapes: ingest/field (actions.ts, tracks.ts) validates with these (TypeBox, compiled
 * once) and the OpenAPI document (openapi-field.ts) shows these very objects. What JSON Schema cannot say is
 * checked after them in ingest/field: times parse (epoch ms or ISO-8601), a category is known, a self-handled
 * report has before- and after-photos, a case is in scope, a check is on site.
 *
 * Coordinates [lng, lat] WGS-84; times epoch ms or ISO-8601; photo ids are the SHA-256 (hex) answered by
 * POST /api/field/uploads/{id}/complete. Pure: no clock, no I/O.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { LngLat, parseBody } from './api.ts';

export const FIELD_KINDS = ['report', 'claim', 'handle', 'comment', 'verify', 'track'] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

/** Photos per action. */
export const MAX_PHOTOS = 9;
/** Fixes per track batch (the app sends about one a 15 s; a batch is a few minutes, or what piled up offline). */
export const MAX_FIXES_PER_BATCH = 2000;

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Uuid = (description: string) => Type.String({ pattern: UUID_PATTERN, description });
const Time = (description: string) =>
  Type.Union([Type.Number(), Type.String({ minLength: 1 })], { description: `${description}: epoch ms or ISO-8601` });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** Free text: trimmed by the server; blank counts as absent. */
const OptText = (max: number, description: string) =>
  Type.Optional(Nullable(Type.String({ maxLength: max, description })));
/** Required text: something that is not blank. */
const ReqText = (max: number, description: string) =>
  Type.String({ minLength: 1, maxLength: max, pattern: '\\S', description });
const PhotoIds = (description: string) =>
  Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { maxItems: MAX_PHOTOS, description });
const Accuracy = Type.Optional(Nullable(Type.Number({ minimum: 0, description: 'GPS accuracy, metres' })));

/** Fields every record carries, whatever its kind. */
const common = {
  key: Uuid('idempotency key made on the phone for this outbox record'),
  createdAt: Type.Optional(Time('phone time the record was made')),
  sentAt: Type.Optional(Time('phone time the record was sent')),
};

/** The envelope, checked first: the key and the kind decide which body schema applies. */
export const FieldEnvelope = Type.Object({
  ...common,
  kind: Type.Union(
    FIELD_KINDS.map((k) => Type.Literal(k)),
    { description: 'which action this record is' },
  ),
});

const caseRef = {
  caseId: ReqText(100, 'case id or code'),
  version: Type.Integer({ description: 'the case version you saw' }),
  note: OptText(2000, 'note for the trail'),
};

export const FieldReportBody = Type.Object(
  {
    ...common,
    kind: Type.Literal('report'),
    category: ReqText(100, 'category id (GET /api/categories)'),
    location: LngLat,
    accuracyM: Accuracy,
    fixTime: Type.Optional(Nullable(Time('time of the GPS fix'))),
    text: OptText(2000, 'what the worker saw'),
    photos: Type.Optional(Nullable(PhotoIds('photos of the problem'))),
    selfHandled: Type.Optional(
      Type.Union([
        Type.Object(
          {
            result: ReqText(2000, 'what was done'),
            after: PhotoIds('photos after the fix (at least one)'),
          },
          {
            description:
              '自处理: fixed on the spot; the case is handled at once with before (photos) and after photos, and waits for an independent check',
          },
        ),
        Type.Null(),
        Type.Literal(false),
      ]),
    ),
  },
  { title: 'FieldReport', description: '一键上报: a new case (source patrol) with photos' },
);

export const FieldClaimBody = Type.Object(
  { ...common, kind: Type.Literal('claim'), ...caseRef },
  { title: 'FieldClaim', description: '签收: accept a case dispatched to me' },
);

export const FieldCommentBody = Type.Object(
  { ...common, kind: Type.Literal('comment'), ...caseRef, note: ReqText(2000, 'the comment') },
  { title: 'FieldComment' },
);

export const FieldHandleBody = Type.Object(
  {
    ...common,
    kind: Type.Literal('handle'),
    ...caseRef,
    result: ReqText(2000, 'what was done'),
    photos: Type.Optional(Nullable(PhotoIds('photos of the result'))),
  },
  { title: 'FieldHandle', description: '处理反馈' },
);

export const FieldVerifyBody = Type.Object(
  {
    ...common,
    kind: Type.Literal('verify'),
    ...caseRef,
    pass: Type.Boolean({ description: 'fixed (true) or not (false)' }),
    photos: Type.Optional(Nullable(PhotoIds('photos taken on site'))),
    location: Type.Optional(Nullable(LngLat)),
    accuracyM: Accuracy,
    override: OptText(500, 'why the check could not be made on site (recorded in the trail)'),
  },
  {
    title: 'FieldVerify',
    description:
      '核查 on site: a photo whose EXIF GPS (else `location`) lies within 50 m of the case, or an `override` reason (recorded in the trail)',
  },
);

export const FieldFix = Type.Object({
  t: Type.Number({ exclusiveMinimum: 0, description: 'the fix’s time, epoch ms' }),
  lng: Type.Number({ minimum: -180, maximum: 180 }),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  accuracyM: Accuracy,
});

const trackBatch = {
  patrol: Uuid('the patrol (start to stop) these fixes belong to'),
  fixes: Type.Array(FieldFix, { minItems: 1, maxItems: MAX_FIXES_PER_BATCH }),
};
/** A batch of fixes on its own (`{patrol, fixes}`), as ingest/field/tracks.ts takes it. */
export const FieldTrackBatch = Type.Object(trackBatch);

export const FieldTrackBody = Type.Object(
  { ...common, kind: Type.Literal('track'), ...trackBatch },
  { title: 'FieldTrack', description: 'a batch of patrol GPS fixes (巡查轨迹)' },
);

/** Body schema per kind: the validator (parseFieldAction) and the OpenAPI document use this one table. */
export const FIELD_ACTION_BODIES = {
  report: FieldReportBody,
  claim: FieldClaimBody,
  comment: FieldCommentBody,
  handle: FieldHandleBody,
  verify: FieldVerifyBody,
  track: FieldTrackBody,
} as const satisfies Record<FieldKind, TSchema>;

export type FieldActionBody = { [K in FieldKind]: Static<(typeof FIELD_ACTION_BODIES)[K]> }[FieldKind];

/**
 * Check an outbox record: the envelope (key, kind), then its kind's body. Throws DomainError
 * 'validation_failed' naming the first field at fault (`details.field`, dotted: `selfHandled.after`, `fixes.3.lat`).
 */
export function parseFieldAction(value: unknown): FieldActionBody {
  const env = parseBody(FieldEnvelope, value);
  return parseBody(FIELD_ACTION_BODIES[env.kind], value) as FieldActionBody;
}
