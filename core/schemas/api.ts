/**
 * HTTP API schemas (CONTRACT.md "HTTP API"): the one source of the API's wire types. The route handlers
 * validate request bodies with these (compiled once with TypeBox's TypeCompiler), and the OpenAPI document
 * (`openapi.ts`, served at GET /api/openapi.json) is generated from the very same objects.
 *
 * Pure: no clock, no I/O. `parseBody` throws DomainError('validation_failed') naming the first field at fault.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { DomainError } from '../errors.ts';

// ---------------------------------------------------------------------------------------------------
// shared pieces

/** WGS-84 `[lng, lat]`. */
export const LngLat = Type.Tuple(
  [Type.Number({ minimum: -180, maximum: 180 }), Type.Number({ minimum: -90, maximum: 90 })],
  {
    description: 'WGS-84 [longitude, latitude]',
  },
);

export const ErrorCodeSchema = Type.Union(
  [
    'bad_request',
    'validation_failed',
    'unauthorized',
    'forbidden',
    'outside_scope',
    'not_found',
    'conflict',
    'stale_version',
    'illegal_transition',
    'invalid_grid',
    'invalid_code',
    'topology_invalid',
    'unprocessable',
    'internal',
  ].map((c) => Type.Literal(c)),
);

export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: ErrorCodeSchema,
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error: a stable code and a human-readable message.' },
);

export const Priority = Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)], {
  description: '1 is the most urgent',
});
export const CaseStateSchema = Type.Union(
  ['reported', 'registered', 'dispatched', 'in_progress', 'handled', 'closed', 'rejected', 'merged'].map((s) =>
    Type.Literal(s),
  ),
);
export const CommandLevelSchema = Type.Union([
  Type.Literal('community'),
  Type.Literal('street'),
  Type.Literal('district'),
]);
export const CaseSourceSchema = Type.Union(
  ['hotline', 'patrol', 'citizen', 'superior', 'sensor', 'camera'].map((s) => Type.Literal(s)),
);
export const GridRefSchema = Type.Object({
  district: Type.Union([Type.String(), Type.Null()]),
  street: Type.Union([Type.String(), Type.Null()]),
  community: Type.Union([Type.String(), Type.Null()]),
  grid: Type.Union([Type.String(), Type.Null()]),
});

const Text = (max: number, description?: string) =>
  Type.String({ minLength: 1, maxLength: max, pattern: '\\S', ...(description ? { description } : {}) });
const Note = Type.Optional(Type.String({ maxLength: 4000, description: 'free text for the trail' }));
const Time = Type.Number({ description: 'epoch milliseconds' });

// ---------------------------------------------------------------------------------------------------
// request bodies

export const SessionBody = Type.Object({ username: Type.String(), password: Type.String() }, { $id: 'SessionBody' });

export const DeviceBody = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    kind: Type.Union(
      ['camera', 'smoke', 'heat', 'gas', 'water_level', 'manhole', 'sensor', 'gateway'].map((k) => Type.Literal(k)),
    ),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    location: LngLat,
    gateway: Type.Optional(Type.String()),
    rtsp: Type.Optional(Type.String({ description: 'rtsp:// URL (cameras); never sent back to browsers' })),
    source: Type.Optional(Type.Union([Type.Literal('eagle-eye'), Type.Literal('skynet'), Type.Literal('community')])),
    intervalS: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 86400,
        description:
          'expected reporting interval, seconds; overrides the kind’s liveness (camera none, smoke/heat/gas/manhole a day, gateway 5 min, sensor 10 min; a gateway’s child lives by its gateway)',
      }),
    ),
    tz: Type.Optional(
      Type.String({
        description: 'IANA time zone of the device clock (local times without offset); default the platform’s TZ',
      }),
    ),
    frigateName: Type.Optional(
      Type.String({
        description:
          'camera under a Frigate NVR (gateway): its Frigate camera name, unique per gateway; default its id',
      }),
    ),
    topicPrefix: Type.Optional(
      Type.String({ description: 'gateway that is a Frigate NVR: its mqtt.topic_prefix (default frigate)' }),
    ),
    apiUrl: Type.Optional(
      Type.String({
        description: 'gateway that is a Frigate NVR: its HTTP API address (event snapshots become case evidence)',
      }),
    ),
    ipAddress: Type.Optional(
      Type.String({ description: 'camera pushing alarms over HTTP (ISAPI/Dahua): its IP address' }),
    ),
    channelId: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 4096, description: 'camera pushing alarms: its channel' }),
    ),
  },
  { $id: 'DeviceBody' },
);

/** Manual intake (hotline 12345 / 8890, patrol, superior). */
export const CaseIntakeBody = Type.Object(
  {
    title: Text(200),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    category: Type.String({ minLength: 1, maxLength: 100, description: 'a category id from GET /api/categories' }),
    location: LngLat,
    source: Type.Union([
      Type.Literal('hotline'),
      Type.Literal('patrol'),
      Type.Literal('citizen'),
      Type.Literal('superior'),
    ]),
    priority: Type.Optional(Priority),
    reporter: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ maxLength: 100 })),
          phone: Type.Optional(Type.String({ maxLength: 40, pattern: '^[0-9+()\\- ]*$' })),
        },
        {
          additionalProperties: false,
          description:
            "the caller's contact (hotline 12345/8890); kept off the case document, shown masked to its handlers",
        },
      ),
    ),
  },
  { $id: 'CaseIntakeBody', additionalProperties: false },
);
export type CaseIntakeBody = Static<typeof CaseIntakeBody>;

const Version = Type.Integer({ minimum: 1, description: 'the case version the client saw (optimistic concurrency)' });
const Assignee = Type.Object({
  kind: Type.Union([Type.Literal('department'), Type.Literal('user')]),
  id: Text(100),
});
const Departments = Type.Array(Text(100), { minItems: 1, maxItems: 20, uniqueItems: true });

/** The fields of each action (CONTRACT.md "Case states and actions"), each with `version`. */
export const CASE_ACTION_BODIES = {
  register: Type.Object({
    category: Text(100),
    priority: Priority,
    subcategory: Type.Optional(Type.String()),
    note: Note,
  }),
  reject: Type.Object({ reason: Text(2000), note: Note }),
  merge: Type.Object({ into: Text(100, 'id or code of the surviving case'), note: Note }),
  dispatch: Type.Object({ to: Assignee, deadline: Type.Optional(Time), note: Note }),
  claim: Type.Object({ note: Note }),
  return: Type.Object({ reason: Text(2000), note: Note }),
  escalate: Type.Object({ note: Note }),
  whistle: Type.Object({ departments: Departments, deadline: Type.Optional(Time), note: Note }),
  report: Type.Object({ department: Text(100), note: Type.String({ maxLength: 4000 }) }),
  supervise: Type.Object({ note: Note }),
  extend: Type.Object({ deadline: Time, reason: Text(2000), note: Note }),
  handle: Type.Object({
    result: Text(4000),
    evidence: Type.Optional(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 50 })),
    note: Note,
  }),
  verify: Type.Object({ pass: Type.Boolean(), note: Note }),
  evaluate: Type.Object({ satisfaction: Type.Integer({ minimum: 1, maximum: 5 }), note: Note }),
  comment: Type.Object({ note: Text(4000) }),
} as const;
export type CaseActionBodyName = keyof typeof CASE_ACTION_BODIES;
export const CASE_ACTION_NAMES = Object.keys(CASE_ACTION_BODIES) as CaseActionBodyName[];

/**
 * Whether the action's note (or, without a note, its reason or handling result) may be shown to the citizen
 * who reported the case — as the Open311 `status_notes` of the request. Default false: notes are internal.
 * Kept in the trail entry's `data` (so it is part of the hashed record).
 */
const NotePublic = Type.Optional(
  Type.Boolean({ description: 'show this note to the citizen (Open311 status_notes); default false (internal)' }),
);

/** The envelope every action body shares; the rest is checked against CASE_ACTION_BODIES[action]. */
export const CaseActionEnvelope = Type.Object({
  action: Type.Union(CASE_ACTION_NAMES.map((a) => Type.Literal(a))),
  version: Version,
  notePublic: NotePublic,
});

/** One schema per action, for the document (`oneOf` with `action` as discriminator). */
export function caseActionBodySchemas(): Record<string, TSchema> {
  const out: Record<string, TSchema> = {};
  for (const a of CASE_ACTION_NAMES) {
    const body = CASE_ACTION_BODIES[a];
    out[a] = Type.Object(
      { action: Type.Literal(a), version: Version, notePublic: NotePublic, ...body.properties },
      { title: `action ${a}` },
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// responses (documented; the server builds them from core types)

export const WhistleSchema = Type.Object({
  department: Type.String(),
  whistledAt: Time,
  deadline: Time,
  reportedAt: Type.Union([Time, Type.Null()]),
  note: Type.String(),
  escalatedAt: Type.Union([Time, Type.Null()]),
});

export const CaseSchema = Type.Object(
  {
    id: Type.String(),
    code: Type.String({ description: 'human-readable, e.g. HQ-20261123-0001' }),
    title: Type.String(),
    description: Type.String(),
    category: Type.String(),
    subcategory: Type.Union([Type.String(), Type.Null()]),
    state: CaseStateSchema,
    priority: Priority,
    level: CommandLevelSchema,
    version: Type.Integer(),
    grid: GridRefSchema,
    location: Type.Union([LngLat, Type.Null()]),
    deadline: Type.Union([Time, Type.Null()]),
    overdue: Type.Boolean(),
    supervised: Type.Boolean(),
    superviseCount: Type.Integer(),
    reworkCount: Type.Integer(),
    returnCount: Type.Integer(),
    reopenCount: Type.Integer(),
    assignee: Type.Union([Assignee, Type.Null()]),
    whistles: Type.Array(WhistleSchema),
    satisfaction: Type.Union([Type.Integer(), Type.Null()]),
    linkedCameras: Type.Array(Type.String(), { description: 'nearest registered cameras, nearest first' }),
    eventCount: Type.Integer({ description: 'source events folded into the case (repeats, fused detections)' }),
    source: CaseSourceSchema,
    result: Type.Union([Type.String(), Type.Null()]),
    evidence: Type.Array(Type.String()),
    createdAt: Time,
    updatedAt: Time,
    closedAt: Type.Union([Time, Type.Null()]),
    closedOnTime: Type.Union([Type.Boolean(), Type.Null()]),
    address: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    mediaUrl: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    suggestedDepartment: Type.Optional(
      Type.String({ description: 'the department the routing table names for this category and grid' }),
    ),
    actions: Type.Optional(
      Type.Array(Type.String(), { description: 'the actions the requesting user may take now (the UI buttons)' }),
    ),
    gridWorkers: Type.Optional(
      Type.Array(Type.Object({ username: Type.String(), name: Type.String() }), {
        description: 'GET /api/cases/{id} only: grid workers whose scope covers the case grid (dispatch targets)',
      }),
    ),
  },
  { $id: 'Case', additionalProperties: true },
);

export const CasePageSchema = Type.Object(
  { cases: Type.Array(CaseSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { $id: 'CasePage' },
);

export const TrailEntrySchema = Type.Object({
  seq: Type.Integer(),
  action: Type.String({
    description: 'a case action, intake, or a rule change: add_events, raise_priority, condition_cleared',
  }),
  actor: Type.String(),
  actorName: Type.Optional(
    Type.String({ description: "the actor's display name (the username for platform entries); not hashed" }),
  ),
  role: Type.String(),
  at: Type.String({ format: 'date-time' }),
  note: Type.Union([Type.String(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  fromState: Type.Union([Type.String(), Type.Null()]),
  toState: Type.String(),
  version: Type.Integer(),
  prevHash: Type.String({ description: 'hash of the previous entry (64 zeros for the first)' }),
  hash: Type.String({ description: 'hex SHA-256 of prevHash + "\\n" + canonical JSON of the entry' }),
});

export const TrailSchema = Type.Object(
  {
    caseId: Type.String(),
    entries: Type.Array(TrailEntrySchema),
    verified: Type.Boolean({ description: 'the hash chain checks out against the stored head' }),
    brokenAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { $id: 'Trail' },
);

const Rate = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);
export const IndicatorsSchema = Type.Object({
  due: Type.Integer(),
  closed: Type.Integer(),
  closedOnTime: Type.Integer(),
  closeRate: Rate,
  onTimeCloseRate: Rate,
  reworkRate: Rate,
  satisfactionRate: Rate,
  evaluated: Type.Integer(),
  overdue: Type.Integer(),
  avgHandleMinutes: Type.Union([Type.Number(), Type.Null()]),
});
export const StatsSchema = Type.Object(
  {
    ...IndicatorsSchema.properties,
    scope: Type.Union([Type.String(), Type.Null()]),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    byCategory: Type.Record(Type.String(), IndicatorsSchema),
    bySource: Type.Record(Type.String(), IndicatorsSchema),
    byDepartment: Type.Record(Type.String(), IndicatorsSchema),
    byState: Type.Record(Type.String(), Type.Integer()),
    devices: Type.Object({
      online: Type.Integer(),
      total: Type.Integer(),
      onlineRatio: Rate,
    }),
  },
  { $id: 'Stats' },
);

export const DepartmentSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  nameEn: Type.String(),
  categories: Type.Array(Type.String()),
});
export const CategorySchema = Type.Object({
  id: Type.String(),
  parent: Type.Union([Type.String(), Type.Null()]),
  zh: Type.String(),
  en: Type.String(),
  department: Type.String(),
  priority: Priority,
});

// ---------------------------------------------------------------------------------------------------
// validation

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checkerOf<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = compiled.get(schema) as TypeCheck<T> | undefined;
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c as unknown as TypeCheck<TSchema>);
  }
  return c;
}

/** Check `value` against `schema`; throws validation_failed with the first error's field and message. */
export function parseBody<T extends TSchema>(schema: T, value: unknown): Static<T> {
  const check = checkerOf(schema);
  if (check.Check(value)) return value as Static<T>;
  const first = check.Errors(value).First();
  const field = first ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
  throw new DomainError(
    'validation_failed',
    first ? `${field || 'body'}: ${first.message}` : 'body does not match the schema',
    { field },
  );
}

/** An action body: the envelope, then the action's own fields. */
export function parseCaseAction(
  value: unknown,
): { action: CaseActionBodyName; version: number } & Record<string, unknown> {
  const env = parseBody(CaseActionEnvelope, value);
  const { action: _a, version: _v, ...rest } = value as Record<string, unknown>;
  parseBody(CASE_ACTION_BODIES[env.action as CaseActionBodyName], rest);
  return value as { action: CaseActionBodyName; version: number } & Record<string, unknown>;
}
