/**
 * The OpenAPI 3.1 document of the HTTP API (GET /api/openapi.json), generated from the schemas the routes
 * validate with (api.ts) — never written beside them. OpenAPI 3.1 schemas are JSON Schema 2020-12; TypeBox
 * emits draft-07 tuples (`items: [...]`), which are rewritten to `prefixItems` here.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  CaseIntakeBody,
  CasePageSchema,
  CaseSchema,
  CategorySchema,
  DepartmentSchema,
  DeviceBody,
  ErrorEnvelope,
  LngLat,
  SessionBody,
  StatsSchema,
  TrailSchema,
  caseActionBodySchemas,
} from './api.ts';
import { fieldPaths } from './openapi-field.ts';

type Json = Record<string, unknown>;

/** Plain JSON Schema 2020-12 from a TypeBox schema (symbols dropped, tuples as prefixItems, no $id). */
export function jsonSchema(s: TSchema | Json): Json {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    const out: Json = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === '$id') continue;
      if (k === 'items' && Array.isArray(x)) {
        out.prefixItems = walk(x);
        continue;
      }
      if (k === 'additionalItems') continue;
      out[k] = walk(x);
    }
    return out;
  };
  return walk(JSON.parse(JSON.stringify(s))) as Json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: Json, description?: string) => ({
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

/** Error responses by status, with the codes each can carry. */
const ERRORS: Record<string, string> = {
  '400': 'bad_request (not JSON, too large) or validation_failed (details.field names the field)',
  '401': 'unauthorized: no or expired session',
  '403': 'forbidden (role, command level, assignee) or outside_scope',
  '404': 'not_found (also for what lies outside the caller’s scope: existence is not revealed)',
  '409': 'stale_version: the case changed since the version you sent; reload and retry',
  '422': 'illegal_transition: the case’s state does not allow the action',
};
const errors = (...codes: string[]) =>
  Object.fromEntries(
    codes.map((c) => [c, { description: ERRORS[c], content: { 'application/json': { schema: ref('Error') } } }]),
  );

const q = (name: string, description: string, schema: Json = { type: 'string' }, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});
const idParam = (description: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const ok = (schema: Json, description = 'OK') => ({ '200': jsonBody(schema, description) });
const anyJson = { type: 'object', additionalProperties: true };

export function openApiDocument(opts: { version?: string; serverUrl?: string } = {}): Json {
  const actions = caseActionBodySchemas();
  const actionSchemas = Object.fromEntries(Object.entries(actions).map(([k, s]) => [`CaseAction_${k}`, jsonSchema(s)]));
  const authed = [{ bearer: [] }, { cookie: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'OneGrid API',
      version: opts.version ?? '1',
      description:
        'Grid-based city governance (一网统管): grids, devices, cases and their closed loop. Coordinates are WGS-84 ' +
        '[lng, lat]. Every error is {"error": {"code", "message"}} with a stable code. A user never sees or changes ' +
        'anything outside its scope (a grid-code prefix and/or a department). Times in case records are epoch ms.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    security: authed,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'the token from POST /api/session' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'og_session' },
      },
      schemas: {
        Error: jsonSchema(ErrorEnvelope),
        LngLat: jsonSchema(LngLat),
        SessionBody: jsonSchema(SessionBody),
        SessionUser: {
          type: 'object',
          properties: {
            username: { type: 'string' },
            name: { type: 'string' },
            role: {
              type: 'string',
              enum: ['admin', 'analyst', 'commander', 'dispatcher', 'department', 'gridworker', 'viewer'],
            },
            scopeGrid: { type: ['string', 'null'] },
            scopeDepartment: { type: ['string', 'null'] },
            level: { type: ['string', 'null'], enum: ['district', 'street', 'community', null] },
            disabled: { type: 'boolean' },
            mustChangePassword: { type: 'boolean' },
            totpEnabled: { type: 'boolean' },
            totpEnrolmentRequired: { type: 'boolean' },
          },
        },
        UserAdmin: {
          allOf: [
            { $ref: '#/components/schemas/SessionUser' },
            {
              type: 'object',
              properties: {
                lockedUntil: { type: ['string', 'null'], format: 'date-time' },
                failedLogins: { type: 'integer' },
                createdAt: { type: 'string', format: 'date-time' },
                passwordChangedAt: { type: ['string', 'null'], format: 'date-time' },
              },
            },
          ],
        },
        UserCreateBody: {
          type: 'object',
          required: ['username', 'role'],
          properties: {
            username: { type: 'string', pattern: '^[A-Za-z0-9._-]{2,64}$' },
            name: { type: 'string', maxLength: 100 },
            role: {
              type: 'string',
              enum: ['admin', 'analyst', 'commander', 'dispatcher', 'department', 'gridworker', 'viewer'],
            },
            scope: {
              type: 'object',
              properties: { grid: { type: ['string', 'null'] }, department: { type: ['string', 'null'] } },
            },
            level: { type: ['string', 'null'], enum: ['district', 'street', 'community', null] },
            password: { type: 'string', minLength: 10, maxLength: 256 },
          },
        },
        UserPatchBody: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', maxLength: 100 },
            role: {
              type: 'string',
              enum: ['admin', 'analyst', 'commander', 'dispatcher', 'department', 'gridworker', 'viewer'],
            },
            scope: {
              type: 'object',
              description: 'replaces the whole scope',
              properties: { grid: { type: ['string', 'null'] }, department: { type: ['string', 'null'] } },
            },
            level: { type: ['string', 'null'], enum: ['district', 'street', 'community', null] },
            disabled: { type: 'boolean' },
            unlock: { type: 'boolean' },
            resetPassword: { type: 'boolean' },
            disableTotp: { type: 'boolean' },
          },
        },
        AuditEntry: {
          type: 'object',
          properties: {
            seq: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            kind: { type: 'string' },
            actor: { type: ['string', 'null'] },
            target: { type: ['string', 'null'] },
            ip: { type: ['string', 'null'] },
            detail: { type: 'object', additionalProperties: true },
            prevHash: { type: 'string' },
            hash: { type: 'string', description: 'SHA-256 hex over prevHash and the canonical JSON of the entry' },
          },
        },
        DeviceBody: jsonSchema(DeviceBody),
        CaseIntakeBody: jsonSchema(CaseIntakeBody),
        Case: jsonSchema(CaseSchema),
        CasePage: jsonSchema(CasePageSchema),
        Trail: jsonSchema(TrailSchema),
        Stats: jsonSchema(StatsSchema),
        Department: jsonSchema(DepartmentSchema),
        Category: jsonSchema(CategorySchema),
        ...actionSchemas,
        CaseAction: {
          oneOf: Object.keys(actions).map((k) => ref(`CaseAction_${k}`)),
          discriminator: {
            propertyName: 'action',
            mapping: Object.fromEntries(Object.keys(actions).map((k) => [k, `#/components/schemas/CaseAction_${k}`])),
          },
        },
      },
    },
    paths: {
      '/healthz': {
        get: {
          summary: 'Readiness, and what the platform decided about optional database extensions',
          security: [],
          responses: ok({
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              db: { type: 'string', enum: ['pglite', 'postgres'] },
              timescale: {
                type: 'string',
                description:
                  "TimescaleDB's state: enabled, usable, not installed, 'available, not preloaded', 'available, not permitted', 'available, failed', not applicable",
              },
              postgis: { type: 'string', description: "PostGIS's state, the same values" },
              extensions: {
                type: 'object',
                description: 'per extension: {use, state, reason?, fix?}',
                additionalProperties: { type: 'object' },
              },
            },
          }),
        },
      },
      '/metrics': {
        get: {
          summary:
            'Prometheus metrics: messages in/rejected/stored, join rate, cases by state, ws clients. Never anonymous: Authorization: Bearer METRICS_TOKEN, or an admin session',
          responses: {
            '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': { description: 'no credentials' },
            '403': { description: 'signed in, not an admin' },
          },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', security: [], responses: ok(anyJson) } },
      '/api/session': {
        post: {
          summary:
            'Sign in: sets an HttpOnly SameSite cookie and returns a bearer token. 5 failures in 15 min lock the account for 15 min; too many attempts from one address answer 429. With TOTP enrolled the 6-digit code is part of the body (401 totp_required without it). user.mustChangePassword: every other API call answers 403 password_change_required until POST /api/session/password',
          security: [],
          requestBody: jsonBody({
            type: 'object',
            required: ['username', 'password'],
            properties: {
              username: { type: 'string', maxLength: 64 },
              password: { type: 'string', maxLength: 256 },
              totp: { type: 'string', pattern: '^[0-9 ]{6,7}$', description: 'TOTP code (RFC 6238), when enrolled' },
            },
          }),
          responses: {
            ...ok({ type: 'object', properties: { token: { type: 'string' }, user: ref('SessionUser') } }),
            ...errors('400'),
            '401': {
              description: 'unauthorized (wrong username, password or code; not told apart) or totp_required',
              content: { 'application/json': { schema: ref('Error') } },
            },
            '423': {
              description: 'account_locked: details.until; Retry-After header (seconds)',
              content: { 'application/json': { schema: ref('Error') } },
            },
            '429': {
              description: 'rate_limited: too many attempts from this address; Retry-After header (seconds)',
              content: { 'application/json': { schema: ref('Error') } },
            },
          },
        },
        get: {
          summary: 'The signed-in session: user (mustChangePassword, totpEnabled, totpEnrolmentRequired) and timeouts',
          responses: {
            ...ok({
              type: 'object',
              properties: {
                user: ref('SessionUser'),
                idleTimeoutMin: { type: 'integer', description: 'SESSION_IDLE_MIN' },
                maxHours: { type: 'integer', description: 'SESSION_MAX_HOURS' },
              },
            }),
            ...errors('401'),
          },
        },
        delete: {
          summary: 'Sign out: the session ends everywhere (its /live and /video sockets close); audited',
          responses: { '204': { description: 'signed out' } },
        },
      },
      '/api/session/password': {
        post: {
          summary:
            "Change one's own password (needs the current one). Policy: 10+ characters, not containing the username, not a common or easily guessed password (zxcvbn-ts). Other sessions of the user end",
          requestBody: jsonBody({
            type: 'object',
            required: ['currentPassword', 'newPassword'],
            properties: { currentPassword: { type: 'string' }, newPassword: { type: 'string', minLength: 10 } },
          }),
          responses: {
            ...ok({ type: 'object', properties: { user: ref('SessionUser') } }),
            '400': {
              description:
                'weak_password: details.reason too_short | too_long | blank | contains_username | common | guessable | unchanged',
              content: { 'application/json': { schema: ref('Error') } },
            },
            ...errors('401'),
          },
        },
      },
      '/api/session/totp': {
        post: {
          summary:
            'Start two-factor enrolment (TOTP, RFC 6238): a new secret kept server-side, its otpauth:// URI and that URI as a QR code (data: URL, PNG); active after /api/session/totp/confirm',
          responses: {
            ...ok({
              type: 'object',
              properties: { secret: { type: 'string' }, uri: { type: 'string' }, qr: { type: 'string' } },
            }),
            ...errors('401', '409'),
          },
        },
        delete: {
          summary:
            'Turn two-factor sign-in off for oneself ({"password", "code"}); 403 for an admin under REQUIRE_2FA=admin',
          requestBody: jsonBody({
            type: 'object',
            properties: { password: { type: 'string' }, code: { type: 'string' } },
          }),
          responses: { '204': { description: 'off' }, ...errors('401', '403') },
        },
      },
      '/api/session/totp/confirm': {
        post: {
          summary: 'Confirm enrolment with a current code; from then on sign-in asks for a code',
          requestBody: jsonBody({ type: 'object', required: ['code'], properties: { code: { type: 'string' } } }),
          responses: {
            ...ok({ type: 'object', properties: { user: ref('SessionUser') } }),
            ...errors('400', '401', '409'),
          },
        },
      },
      '/api/users': {
        get: {
          summary: 'Accounts (admin only); never a password hash or TOTP secret',
          responses: {
            ...ok({ type: 'object', properties: { items: { type: 'array', items: ref('UserAdmin') } } }),
            ...errors('401', '403'),
          },
        },
        post: {
          summary:
            "Create an account (admin only). scope.grid must be a grid code of the published version, scope.department an existing department; level must be the grid's level (taken from it when omitted). Without password one is generated and returned once; either way it must be changed at first sign-in. Audited",
          requestBody: jsonBody(ref('UserCreateBody')),
          responses: {
            '201': jsonBody(
              { type: 'object', properties: { user: ref('UserAdmin'), password: { type: 'string' } } },
              'created; password only when generated',
            ),
            '400': {
              description:
                'validation_failed (details.field: username, role, scope, scope.grid, scope.department, level) or weak_password',
              content: { 'application/json': { schema: ref('Error') } },
            },
            ...errors('401', '403'),
            '409': {
              description: 'conflict: the username exists',
              content: { 'application/json': { schema: ref('Error') } },
            },
          },
        },
      },
      '/api/users/{username}': {
        get: {
          summary: 'One account (admin only)',
          parameters: [{ name: 'username', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            ...ok({ type: 'object', properties: { user: ref('UserAdmin') } }),
            ...errors('401', '403', '404'),
          },
        },
        patch: {
          summary:
            "Change an account (admin only): name, role, scope, level, disabled, unlock, resetPassword (new password returned once, to be changed at next sign-in), disableTotp. Role/scope changes, disable and reset end the user's sessions and close its sockets. Audited",
          parameters: [{ name: 'username', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody(ref('UserPatchBody')),
          responses: {
            ...ok({ type: 'object', properties: { user: ref('UserAdmin'), password: { type: 'string' } } }),
            ...errors('400', '401', '403', '404'),
            '409': {
              description: 'conflict: an admin may not disable or demote itself',
              content: { 'application/json': { schema: ref('Error') } },
            },
          },
        },
      },
      '/api/audit': {
        get: {
          summary:
            'Security audit log (安全审计, admin only), newest first: sign-ins, failures, lockouts, sign-outs, password and account changes, 2FA, Open311 keys, exports, grid publishes, rule changes, contact reveals. Append-only and hash-chained; verified reports the whole chain. Kept AUDIT_RETENTION_DAYS (>= 180)',
          parameters: [
            q('from', 'ISO 8601; entries at or after', { type: 'string', format: 'date-time' }),
            q('to', 'ISO 8601; entries before', { type: 'string', format: 'date-time' }),
            q('actor', 'username of who acted'),
            q('kind', 'e.g. login_failed, user_created, grid_published'),
            q('limit', 'page size', { type: 'integer', minimum: 1, maximum: 500, default: 100 }),
            q('before', 'keyset: the next of the previous page', { type: 'integer', minimum: 0 }),
          ],
          responses: {
            ...ok({
              type: 'object',
              properties: {
                items: { type: 'array', items: ref('AuditEntry') },
                next: { type: ['integer', 'null'] },
                verified: { type: 'boolean' },
                brokenAt: { type: ['integer', 'null'], description: 'seq of the first entry that does not check out' },
              },
            }),
            ...errors('400', '401', '403'),
          },
        },
      },
      '/api/me': { get: { summary: 'The signed-in user', responses: { ...ok(anyJson), ...errors('401') } } },
      '/api/grids': {
        get: {
          summary:
            'Published grids as a GeoJSON FeatureCollection (properties code, level, name, parent, kind), within scope',
          parameters: [
            q('level', '1 district … 4 base grid', { type: 'integer', minimum: 1, maximum: 4 }),
            q('parent', 'children of this code'),
          ],
          responses: { ...ok(anyJson, 'GeoJSON FeatureCollection'), ...errors('400', '401') },
        },
      },
      '/api/grids/{code}/workers': {
        get: {
          summary:
            'The grid workers (网格员) of a unit: enabled gridworker users whose scope covers the code or lies inside it — {grid, workers: [{username, name, scope}]}',
          parameters: [
            { name: 'code', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d{6,20}$' } },
          ],
          responses: {
            ...ok({
              type: 'object',
              properties: {
                grid: { type: 'string' },
                workers: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { username: { type: 'string' }, name: { type: 'string' }, scope: { type: 'string' } },
                  },
                },
              },
            }),
            ...errors('400', '401', '404'),
          },
        },
      },
      '/api/grids/join': {
        get: {
          summary: 'The four grid codes of a point (nulls outside)',
          parameters: [
            q('lng', 'longitude (WGS-84)', { type: 'number' }, true),
            q('lat', 'latitude (WGS-84)', { type: 'number' }, true),
          ],
          responses: {
            ...ok({
              type: 'object',
              properties: Object.fromEntries(
                ['district', 'street', 'community', 'grid'].map((k) => [k, { type: ['string', 'null'] }]),
              ),
            }),
            ...errors('400', '401'),
          },
        },
      },
      '/api/grids/drafts': {
        get: {
          summary: 'Grid studio: the drafts (role analyst or admin)',
          responses: {
            ...ok({ type: 'object', properties: { drafts: { type: 'array', items: anyJson } } }),
            ...errors('401', '403'),
          },
        },
        post: {
          summary:
            'Create a draft: JSON {"from": "published", "label"?, "profile"?} copies the published set (a profile other than the published one — gb15, gb14, stat20 — numbers every base grid afresh in it, west→east, north→south per community); a grid file body (GeoJSON, zipped Shapefile, KML, KMZ) is imported as by `onegrid grids import`',
          parameters: [
            q('format', 'geojson | shp | kml | kmz (default: sniffed)'),
            q(
              'crs',
              'source CRS: wgs84 | gcj02 | bd09 | EPSG code (4490, 4527, 4548, 3857 …); default from .prj / crs member',
            ),
            q('encoding', 'text encoding (utf-8, gbk, 936 …); default from .cpg, DBF code page, XML prolog'),
            q('codeField', 'property holding the grid code'),
            q('nameField', 'property holding the name'),
            q('levelField', 'property holding the level'),
            q('profile', 'code profile gb15 | gb14 | stat20 (default GRID_CODE_PROFILE)'),
            q('label', 'the draft label'),
          ],
          requestBody: jsonBody({
            type: 'object',
            properties: {
              from: { const: 'published' },
              label: { type: 'string' },
              profile: { type: 'string', enum: ['gb15', 'gb14', 'stat20'] },
            },
          }),
          responses: {
            '201': jsonBody(anyJson, '{draft, source?, repairs?}'),
            ...errors('400', '401', '403', '404', '422'),
          },
        },
      },
      '/api/grids/drafts/{id}': {
        get: {
          summary:
            'A draft: {draft (state, rev, head, redoable …), grids (GeoJSON FeatureCollection, [lng, lat]), report (topology)}',
          parameters: [idParam('draft id')],
          responses: { ...ok(anyJson), ...errors('401', '403', '404') },
        },
        delete: {
          summary: 'Discard a draft that is not published',
          parameters: [idParam('draft id')],
          responses: { '204': { description: 'discarded' }, ...errors('401', '403', '404', '422') },
        },
      },
      '/api/grids/drafts/{id}/{action}': {
        get: {
          summary:
            'action history: who did what (change sets with op counts, undo, redo, review); action diff: added, removed, changed grids against the published set',
          parameters: [
            idParam('draft id'),
            { name: 'action', in: 'path', required: true, schema: { enum: ['history', 'diff'] } },
          ],
          responses: { ...ok(anyJson), ...errors('401', '403', '404') },
        },
        post: {
          summary:
            'changes {rev, summary?, ops: [{op: create, after} | {op: update, code, after} | {op: delete, code}]}; undo {rev}; redo {rev}; recode {rev?, community?, apply?} (old→new preview, west→east, north→south); submit {rev}; approve {rev} (not by its author); publish {rev, confirm?} (atomic; reports re-joined devices and open cases). Mutations return {draft, report}',
          parameters: [
            idParam('draft id'),
            {
              name: 'action',
              in: 'path',
              required: true,
              schema: { enum: ['changes', 'undo', 'redo', 'recode', 'submit', 'approve', 'publish'] },
            },
          ],
          requestBody: jsonBody({
            type: 'object',
            properties: { rev: { type: 'integer' } },
            additionalProperties: true,
          }),
          responses: { ...ok(anyJson), ...errors('400', '401', '403', '404', '409', '422') },
        },
      },
      '/api/devices': {
        get: {
          summary: 'The device registry within scope',
          parameters: [
            q('kind', 'device kind'),
            q('grid', 'grid-code prefix'),
            q('gateway', 'children of a gateway'),
            q('after', 'id to page after'),
            q('limit', '≤ 10000', { type: 'integer' }),
          ],
          responses: {
            ...ok({ type: 'object', properties: { devices: { type: 'array', items: anyJson } } }),
            ...errors('400', '401'),
          },
        },
        post: {
          summary: 'Register a device (admin); the response carries its MQTT secret, once',
          requestBody: jsonBody(ref('DeviceBody')),
          responses: { '201': jsonBody(anyJson, 'the device with `secret`'), ...errors('400', '401', '403', '409') },
        },
      },
      '/api/devices/{id}': {
        get: {
          summary: 'One device',
          parameters: [idParam('device id')],
          responses: { ...ok(anyJson), ...errors('401', '404') },
        },
      },
      '/api/devices/{id}/readings': {
        get: {
          summary: 'Time-bucketed series of a device’s metric',
          parameters: [
            idParam('device id'),
            q('metric', 'metric name'),
            q('from', 'ISO-8601 or epoch ms'),
            q('to', 'ISO-8601 or epoch ms'),
            q('bucket', 'e.g. 1m, 5m, 1h'),
          ],
          responses: { ...ok(anyJson), ...errors('400', '401', '404') },
        },
      },
      '/api/devices/{id}/metrics': {
        get: {
          summary:
            'The metric names the device has reported, most frequent first (from its latest 500 readings): {device, metrics: [string]}',
          parameters: [idParam('device id')],
          responses: {
            ...ok({
              type: 'object',
              properties: { device: { type: 'string' }, metrics: { type: 'array', items: { type: 'string' } } },
            }),
            ...errors('401', '404'),
          },
        },
      },
      '/api/devices/{id}/readings.csv': {
        get: {
          summary:
            'Raw readings as CSV (RFC 4180, UTF-8 with BOM): ts (device time, UTC), received_at, seq, one column per metric; oldest first, at most 100,000 rows',
          parameters: [
            idParam('device id'),
            q('from', 'ISO-8601 or epoch ms (default: to − 24 h)'),
            q('to', 'ISO-8601 or epoch ms (default: now)'),
          ],
          responses: {
            '200': {
              description: 'text/csv attachment',
              content: { 'text/csv': { schema: { type: 'string' } } },
            },
            ...errors('400', '401', '404'),
          },
        },
      },
      '/api/intake/isapi/{cameraId}': {
        post: {
          summary:
            'Hikvision ISAPI alarm push (EventNotificationAlert XML, or multipart/form-data with the XML part and a JPEG picture kept as case evidence). HTTP Basic as the camera (or its NVR gateway: the camera is matched by ipAddress + channelID as registered). Vendor eventType mapped through /api/intake/event-types; same rules as MQTT events',
          parameters: [idParam('camera (or NVR gateway) id')],
          responses: {
            ...ok({
              type: 'object',
              properties: {
                stored: { type: 'integer' },
                duplicates: { type: 'integer' },
                ignored: { type: 'integer', description: 'inactive states (keep-alives) and ended alarms' },
                events: { type: 'array', items: anyJson },
              },
            }),
            ...errors('400', '401', '403', '404', '413', '422'),
          },
        },
      },
      '/api/intake/dahua/{cameraId}': {
        post: {
          summary:
            'Dahua event push: JSON {"Code","Action","Index","Data"} (or {"Events":[…]}) or the eventManager text form Code=…;action=…;index=…;data={…}. HTTP Basic as the camera; Action Stop is acknowledged, not stored',
          parameters: [idParam('camera (or NVR gateway) id')],
          responses: { ...ok(anyJson), ...errors('400', '401', '403', '404', '413', '422') },
        },
      },
      '/api/intake/event-types': {
        get: {
          summary: 'Vendor event types → OneGrid types (admin): {defaults, custom, effective}',
          responses: { ...ok(anyJson), ...errors('401', '403') },
        },
        put: {
          summary:
            'Replace the admin entries (admin): {"vendorName": {"type": "fire_alarm" | null, "label"?: "line_crossing"}}; names compared case-insensitively; null = not an alarm',
          requestBody: jsonBody({ type: 'object', additionalProperties: anyJson }),
          responses: { ...ok(anyJson), ...errors('400', '401', '403', '422') },
        },
      },
      '/api/ingest/rejects': {
        get: {
          summary: 'Recent rejected MQTT messages with reasons (admin, analyst)',
          parameters: [
            q('limit', '≤ 1000', { type: 'integer' }),
            q('before', 'id, for the next page', { type: 'integer' }),
            q('reason', 'bad_json | schema | too_large | bad_coordinates | acl | unknown_topic'),
          ],
          responses: { ...ok(anyJson), ...errors('400', '401', '403') },
        },
      },
      '/api/events/heat': {
        get: {
          summary: 'Events of the last hours within scope as [[lng, lat, weight]] for the wall’s heatmap',
          parameters: [q('hours', '1–168, default 24', { type: 'number' })],
          responses: { ...ok(anyJson), ...errors('400', '401') },
        },
      },
      '/api/patrols': {
        get: {
          summary:
            'Grid-worker patrol tracks within scope for the wall: today’s real ones from the app (simulated: false, name = the worker) and, in demo mode only, SIMULATED ones (simulated: true)',
          responses: { ...ok(anyJson), ...errors('401') },
        },
      },
      ...fieldPaths(),
      '/api/open311/keys': {
        get: {
          summary: 'Open311 API keys, without their values (admin)',
          responses: { ...ok(anyJson), ...errors('401', '403') },
        },
        post: {
          summary: 'Create an Open311 API key, returned once (admin); recorded in the audit log (open311_key_created)',
          requestBody: jsonBody({ type: 'object', properties: { name: { type: 'string' } } }),
          responses: { '201': jsonBody(anyJson), ...errors('400', '401', '403') },
        },
      },
      '/api/cameras/{id}/snapshot': {
        get: {
          summary: 'A current JPEG from a camera within scope',
          parameters: [idParam('camera device id')],
          responses: {
            '200': {
              description: 'JPEG',
              content: { 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } },
            },
            ...errors('401', '404'),
          },
        },
      },
      '/basemap.json': {
        get: {
          summary: 'The intranet basemap style dropped into DATA_DIR (MapLibre style JSON)',
          responses: { ...ok(anyJson), ...errors('404') },
        },
      },
      '/open311/{file}': {
        get: {
          tags: ['Open311'],
          summary: 'Open311 service discovery: discovery.json | discovery.xml',
          security: [],
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: ['discovery.json', 'discovery.xml'] },
            },
          ],
          responses: { '200': { description: 'discovery document (JSON or XML)' } },
        },
      },
      '/open311/v2/{file}': {
        get: {
          tags: ['Open311'],
          summary: 'GeoReport v2 (http://wiki.open311.org/GeoReport_v2): discovery, services, requests — .json or .xml',
          description:
            'requests.{format} takes the specification’s filters: service_request_id, service_code, start_date, end_date, status.',
          security: [],
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^(discovery|services|requests)\\.(json|xml)$' },
            },
          ],
          responses: {
            '200': { description: 'GeoReport v2 document' },
            '400': { description: 'GeoReport v2 error list' },
          },
        },
        post: {
          tags: ['Open311'],
          summary:
            'GeoReport v2 POST Service Request (requests.json | requests.xml) with api_key, form-encoded: a case with source citizen',
          security: [],
          parameters: [
            {
              name: 'file',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^requests\\.(json|xml)$' },
            },
          ],
          responses: {
            '200': { description: 'service_request_id or token' },
            '400': { description: 'GeoReport v2 error list' },
            '403': { description: 'missing or unknown api_key' },
          },
        },
      },
      '/open311/v2/services/{file}': {
        get: {
          tags: ['Open311'],
          summary: 'GeoReport v2 service definition: {service_code}.json | .xml',
          security: [],
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'service definition' },
            '404': { description: 'GeoReport v2 error list' },
          },
        },
      },
      '/open311/v2/requests/{file}': {
        get: {
          tags: ['Open311'],
          summary: 'GeoReport v2 single service request: {service_request_id}.json | .xml',
          security: [],
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'service request' }, '404': { description: 'GeoReport v2 error list' } },
        },
      },
      '/open311/v2/tokens/{file}': {
        get: {
          tags: ['Open311'],
          summary: 'GeoReport v2 service_request_id from a token: {token}.json | .xml',
          security: [],
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'token → service_request_id' },
            '404': { description: 'GeoReport v2 error list' },
          },
        },
      },
      '/open311/v2/media/{file}': {
        get: {
          tags: ['Open311'],
          summary:
            'The public copy of a photo uploaded with a request (its media_url): {service_request_id}.jpg, re-encoded without metadata (no EXIF GPS)',
          security: [],
          parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'JPEG',
              content: { 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } },
            },
            '404': { description: 'GeoReport v2 error list' },
          },
        },
      },
      '/api/open311/keys/{id}': {
        delete: {
          summary: 'Revoke an Open311 API key (admin)',
          parameters: [idParam('key id')],
          responses: { '204': { description: 'revoked' }, ...errors('401', '403', '404') },
        },
      },
      '/api/cases': {
        get: {
          summary: 'Cases within scope, newest first, keyset-paged',
          parameters: [
            q('state', 'comma list of states'),
            q('category', 'category id or class (a class matches its subcategories)'),
            q('source', 'hotline | patrol | citizen | superior | sensor | camera'),
            q('priority', '1–4', { type: 'integer', minimum: 1, maximum: 4 }),
            q('grid', 'grid-code prefix (narrowed to the caller’s scope)'),
            q('overdue', 'true | false', { type: 'boolean' }),
            q('from', 'created at or after (ISO-8601 or epoch ms)'),
            q('to', 'created before (ISO-8601 or epoch ms)'),
            q('q', 'text in title, description or code'),
            q('limit', '1–500, default 50', { type: 'integer', minimum: 1, maximum: 500 }),
            q('cursor', 'nextCursor of the previous page'),
          ],
          responses: { ...ok(ref('CasePage')), ...errors('400', '401') },
        },
        post: {
          summary:
            'Manual intake (hotline, patrol, citizen, superior): dispatcher, commander, grid worker within scope',
          requestBody: jsonBody(ref('CaseIntakeBody')),
          responses: { '201': jsonBody(ref('Case'), 'the new case, state reported'), ...errors('400', '401', '403') },
        },
      },
      '/api/cases/{id}': {
        get: {
          summary: 'One case by id or code',
          parameters: [idParam('case id or code, e.g. HQ-20261123-0001')],
          responses: { ...ok(ref('Case')), ...errors('401', '404') },
        },
      },
      '/api/cases/{id}/actions': {
        post: {
          summary: 'Take an action on a case (CONTRACT.md "Case states and actions"); returns the updated case',
          description:
            'States: reported → registered → dispatched → in_progress → handled → closed (and rejected, merged). ' +
            '`version` is the version the client saw. A scoped caller gets 403 outside_scope for a case outside its ' +
            'scope and for an unknown id alike.',
          parameters: [idParam('case id or code')],
          requestBody: jsonBody(ref('CaseAction')),
          responses: { ...ok(ref('Case')), ...errors('400', '401', '403', '404', '409', '422') },
        },
      },
      '/api/cases/{id}/trail': {
        get: {
          summary: 'Every action on the case with actor, role, time, note and the SHA-256 hash chain, verified',
          parameters: [idParam('case id or code')],
          responses: { ...ok(ref('Trail')), ...errors('401', '404') },
        },
      },
      '/api/cases/{id}/evidence': {
        get: {
          summary: 'The evidence files of the case: snapshots, intake attachments, handling photos (no bytes)',
          parameters: [idParam('case id or code')],
          responses: {
            ...ok({
              type: 'object',
              properties: {
                evidence: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'integer' },
                      kind: { type: 'string', enum: ['snapshot', 'attachment', 'photo'] },
                      source: { type: ['string', 'null'], description: 'camera id or the username who attached it' },
                      mime: { type: 'string' },
                      createdAt: { type: 'string', format: 'date-time' },
                      url: { type: 'string' },
                    },
                  },
                },
              },
            }),
            ...errors('401', '404'),
          },
        },
        post: {
          summary: 'Attach a photo (接件附件 or 处置照片); its url goes into the evidence of a handle action',
          parameters: [
            idParam('case id or code'),
            { name: 'kind', in: 'query', schema: { type: 'string', enum: ['attachment', 'photo'], default: 'photo' } },
          ],
          requestBody: {
            required: true,
            description: 'the image itself, at most 512 KiB (the workbench scales photos to 1600 px first)',
            content: {
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/webp': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            '201': jsonBody(
              { type: 'object', properties: { id: { type: 'integer' }, url: { type: 'string' } } },
              'attached',
            ),
            ...errors('400', '401', '403', '404'),
          },
        },
      },
      '/api/cases/{id}/evidence/{eid}': {
        get: {
          summary: 'An evidence file of the case (the camera snapshot taken when it was raised, 视频联动)',
          parameters: [
            idParam('case id or code'),
            {
              name: 'eid',
              in: 'path',
              required: true,
              schema: { type: 'integer', minimum: 1 },
              description: 'evidence id',
            },
          ],
          responses: {
            '200': {
              description: 'the file',
              content: { 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } },
            },
            ...errors('401', '404'),
          },
        },
      },
      '/api/cases/{id}/contact': {
        get: {
          summary:
            "The reporter's contact (Open311 submitter or hotline caller), masked (e.g. phone 139****5678), for the case's handlers",
          description:
            '{"contact": {name?, firstName?, lastName?, phone?, email?, deviceId?, accountId?} | null, "masked": true}. 404 outside the user\'s scope; 403 for analysts and viewers.',
          parameters: [idParam('case id or code')],
          responses: { ...ok(anyJson), ...errors('401', '403', '404') },
        },
      },
      '/api/cases/{id}/contact/reveal': {
        post: {
          summary: "Reveal the reporter's full contact to call the citizen back (audited: contact_revealed)",
          description:
            'Writes a security audit entry (kind contact_revealed, actor, case id, address) before answering {"contact": {…}, "masked": false}. Same access as GET …/contact; 404 when the case has no contact.',
          parameters: [idParam('case id or code')],
          responses: { ...ok(anyJson), ...errors('401', '403', '404') },
        },
      },
      '/api/mqtt/auth': {
        post: {
          summary:
            'MQTT CONNECT check for an external broker (EMQX 5 HTTP authenticator). External-broker mode with MQTT_SERVICE_SECRET only (else 404); the broker sends that secret in X-OneGrid-Broker-Key (else 401). Registry credentials (or the service login _onegrid), the client-id rule ({id} or {id}:{suffix}, suffix 1-64 of A-Za-z0-9._-, at most 128 characters) and the failed-CONNECT limits per id and per peerhost, as on the embedded broker',
          security: [],
          parameters: [
            {
              name: 'X-OneGrid-Broker-Key',
              in: 'header',
              required: true,
              schema: { type: 'string' },
              description: 'MQTT_SERVICE_SECRET',
            },
          ],
          requestBody: jsonBody({
            type: 'object',
            required: ['username', 'password', 'clientid'],
            properties: {
              username: { type: 'string', description: 'device or gateway id' },
              password: { type: 'string', description: 'its secret' },
              clientid: { type: 'string' },
              peerhost: { type: 'string', description: 'client address (rate limits)' },
            },
          }),
          responses: {
            ...ok({
              type: 'object',
              required: ['result'],
              properties: {
                result: { type: 'string', enum: ['allow', 'deny'] },
                reason: { type: 'string', enum: ['bad_credentials', 'rate_limited', 'client_id'] },
                is_superuser: { type: 'boolean' },
                client_attrs: { type: 'object', properties: { kind: { type: 'string' } } },
              },
            }),
            ...errors('401', '404'),
          },
        },
      },
      '/api/mqtt/acl': {
        post: {
          summary:
            'MQTT topic authorisation for an external broker (EMQX 5 HTTP authorizer): the embedded broker’s topic ACL (own dev/{id}/…, a gateway’s registered children, frigate/… only for gateways; the service _onegrid subscribes dev/…, frigate/… and uses onegrid/bus/…). Never answers "ignore". Same protection as /api/mqtt/auth',
          security: [],
          parameters: [
            {
              name: 'X-OneGrid-Broker-Key',
              in: 'header',
              required: true,
              schema: { type: 'string' },
              description: 'MQTT_SERVICE_SECRET',
            },
          ],
          requestBody: jsonBody({
            type: 'object',
            required: ['clientid', 'username', 'topic', 'action'],
            properties: {
              clientid: { type: 'string' },
              username: { type: 'string' },
              topic: { type: 'string', description: 'topic or topic filter (may be $share/{group}/…)' },
              action: { type: 'string', enum: ['publish', 'subscribe'] },
            },
          }),
          responses: {
            ...ok({
              type: 'object',
              required: ['result'],
              properties: {
                result: { type: 'string', enum: ['allow', 'deny'] },
                reason: { type: 'string', enum: ['bad_request', 'client_id', 'unknown_principal', 'acl'] },
              },
            }),
            ...errors('401', '404'),
          },
        },
      },
      '/api/stats': {
        get: {
          summary:
            'Indicators (closeRate, onTimeCloseRate, reworkRate, satisfactionRate, overdue, avgHandleMinutes) for a scope, by category, source and department; device online ratio',
          parameters: [
            q('scope', 'grid-code prefix, narrowed to the caller’s scope'),
            q('from', 'window start (ISO-8601 or epoch ms), default to − 30 days'),
            q('to', 'window end (exclusive), default now'),
          ],
          responses: { ...ok(ref('Stats')), ...errors('400', '401') },
        },
      },
      '/api/departments': {
        get: {
          summary: 'Departments',
          responses: {
            ...ok({ type: 'object', properties: { departments: { type: 'array', items: ref('Department') } } }),
            ...errors('401'),
          },
        },
      },
      '/api/categories': {
        get: {
          summary: 'Event categories with default priority and routed department',
          responses: {
            ...ok({ type: 'object', properties: { categories: { type: 'array', items: ref('Category') } } }),
            ...errors('401'),
          },
        },
      },
      '/live': {
        get: {
          summary:
            'WebSocket (upgrade): server → client JSON {"type": "case" | "device" | "grid" | "kpi", …, "seq"}, only what the user may see; ?since=SEQ resumes. Session cookie, Authorization: Bearer, or ?ticket= (POST /api/tickets); closed with 4401 when the session ends; a browser Origin must be this site or WS_ALLOWED_ORIGINS',
          responses: {
            '101': { description: 'switching protocols' },
            '401': { description: 'no session' },
            '403': { description: 'foreign Origin' },
            '429': { description: 'too many sockets for this user (MAX_LIVE_SOCKETS_PER_USER)' },
          },
        },
      },
      '/api/tickets': {
        post: {
          summary:
            'A one-use WebSocket ticket for this session (valid 30 s): /live?ticket=… or /video/{id}?ticket=…, for clients that cannot send the cookie or an Authorization header; session tokens are never accepted in URLs',
          responses: {
            '201': {
              description: 'the ticket',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['ticket', 'expiresAt'],
                    properties: { ticket: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
                  },
                },
              },
            },
            ...errors('401'),
          },
        },
      },
    },
  };
}
