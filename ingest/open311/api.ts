/**
 * The GeoReport v2 methods, independent of HTTP framing: each takes parsed input and returns the JSON body
 * of the spec (rendered as JSON or XML by http.ts) or throws Open311Error. Errors follow the spec: HTTP
 * 404 for what does not exist, 403 for a missing or wrong api_key, 400 for anything else the request
 * cannot do; the body is a list of `{code, description}` (code = the HTTP status).
 */
import type { DomainError } from '../../core/errors.ts';
import type { Case } from '../../core/cases/types.ts';
import type { CaseFilter, CasePort, IntakeInput } from '../cases/port.ts';
import { SYSTEM_ACTOR } from '../cases/port.ts';
import type { Lang } from './lang.ts';
import {
  CLOSED_STATES,
  OPEN_REQUEST_STATES,
  duplicateNotice,
  postNotice,
  toServiceRequest,
  type CaseDoc,
  type MapContext,
  type ServiceRequestJson,
} from './requests.ts';
import {
  AttributeError,
  CATALOGUE_CHANGESET,
  checkAttributes,
  isService,
  parseW3cDatetime,
  serviceDefinition,
  serviceList,
  serviceName,
} from './services.ts';
import type { Open311Store, RequestRow } from './store.ts';
import {
  DEFAULT_FLOOD_LIMITS,
  FOLD_RADIUS_M,
  FloodGuard,
  RateLimited,
  distanceM,
  fingerprintOf,
  type FloodLimits,
} from './flood.ts';
import { prepareMedia } from './media.ts';
import { namesOf, type ReporterContact } from './privacy.ts';
import { stripNonXmlChars } from './xml.ts';

export const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2';
export const DAY_MS = 86_400_000;
export const WINDOW_MS = 90 * DAY_MS;
export const MAX_RESULTS = 1000;
export const MAX_DESCRIPTION = 4000;

export interface Open311ErrorItem {
  code: number;
  description: string;
}

export class Open311Error extends Error {
  readonly status: number;
  readonly errors: Open311ErrorItem[];
  /** Extra response headers (Retry-After of a 429). */
  readonly headers: Record<string, string>;
  constructor(status: number, description: string | string[], headers: Record<string, string> = {}) {
    const list = Array.isArray(description) ? description : [description];
    super(list.join('; '));
    this.name = 'Open311Error';
    this.status = status;
    this.errors = list.map((d) => ({ code: status, description: d }));
    this.headers = headers;
  }
}

/** A method's answer: the document element for XML and the JSON body. */
export interface Open311Result {
  status: number;
  root: 'discovery' | 'services' | 'service_definition' | 'service_requests';
  body: unknown;
  headers?: Record<string, string>;
}

export interface District {
  code: string;
  name: string;
}

export interface Open311Deps {
  /** The case service; undefined while it is not wired (every request method then answers 503). */
  cases(): CasePort | undefined;
  store: Open311Store;
  /** Department id → {zh, en} names. */
  departments(): Promise<Map<string, { zh: string; en: string }>>;
  grids: {
    /** The grid codes at a point (null fields outside). */
    join(lng: number, lat: number): { district: string | null; grid: string | null };
    name(code: string): string | null;
    /** The districts (level 1) this installation covers: the valid jurisdiction_ids. */
    districts(): District[];
  };
  now(): number;
  newToken(): string;
  /** A new public service_request_id (store.ts newPublicId). */
  newPublicId(): string;
  /** Rate limits and the fold window (flood.ts); DEFAULT_FLOOD_LIMITS when left out. */
  limits?: FloodLimits;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Input of POST requests: fields, and `attribute[code]` values (arrays for `attribute[code][]`). */
export interface PostInput {
  fields: Record<string, string>;
  attributes: Record<string, string | string[]>;
  /** The multipart `media` file, when one was uploaded. */
  media?: Buffer;
}

/** Who is posting: the client's address (rate limit, folding). */
export interface PostClient {
  ip: string | null;
}

const zhen = (lang: Lang, zh: string, en: string) => (lang === 'zh' ? zh : en);

export class Open311Api {
  readonly flood: FloodGuard;
  constructor(private readonly deps: Open311Deps) {
    this.flood = new FloodGuard(deps.limits ?? DEFAULT_FLOOD_LIMITS);
  }

  // ---- jurisdiction -------------------------------------------------------------------------------

  /**
   * jurisdiction_id is optional (one endpoint, one installation). Accepted: a district code of the
   * published grids (narrows requests to that district), or this endpoint's host name (with or without
   * www.). Anything else is 404, as the spec says.
   */
  jurisdiction(value: string | null | undefined, host: string | null, lang: Lang): District | null {
    const jid = value?.trim();
    if (!jid) return null;
    const districts = this.deps.grids.districts();
    const d = districts.find((x) => x.code === jid);
    if (d) return d;
    const bare = (h: string) => h.toLowerCase().replace(/^www\./, '');
    if (host && bare(jid) === bare(host)) return null;
    const known = districts.map((x) => `${x.code} (${x.name})`).join(', ');
    throw new Open311Error(
      404,
      zhen(
        lang,
        `jurisdiction_id ${jid} 不存在。本接口服务的辖区：${known || '无'}（也可不传 jurisdiction_id）。`,
        `jurisdiction_id ${jid} not found. This endpoint serves: ${known || 'none'} (jurisdiction_id may be left out).`,
      ),
    );
  }

  // ---- discovery and services ---------------------------------------------------------------------

  discovery(origin: string, lang: Lang): Open311Result {
    return {
      status: 200,
      root: 'discovery',
      body: {
        changeset: CATALOGUE_CHANGESET,
        contact: zhen(
          lang,
          `OneGrid 一网统管平台。如需帮助，请联系本平台的运维管理员（${origin}）。`,
          `OneGrid city operations platform. For help, contact the operator of this installation (${origin}).`,
        ),
        key_service: zhen(
          lang,
          `提交服务请求（POST requests）需要 API 密钥，查询不需要。密钥由平台管理员签发：管理员登录后调用 POST ${origin}/api/open311/keys。`,
          `An API key is needed to POST service requests (reading needs none). Keys are issued by the platform administrator: signed in as admin, POST ${origin}/api/open311/keys.`,
        ),
        endpoints: [
          {
            specification: SPECIFICATION,
            url: `${origin}/open311/v2`,
            changeset: CATALOGUE_CHANGESET,
            type: 'production',
            formats: ['text/xml', 'application/json'],
          },
        ],
      },
    };
  }

  services(q: URLSearchParams, host: string | null, lang: Lang): Open311Result {
    this.jurisdiction(q.get('jurisdiction_id'), host, lang);
    return { status: 200, root: 'services', body: serviceList(lang) };
  }

  serviceDefinition(code: string, q: URLSearchParams, host: string | null, lang: Lang): Open311Result {
    this.jurisdiction(q.get('jurisdiction_id'), host, lang);
    if (!code) throw new Open311Error(400, zhen(lang, '缺少 service_code', 'service_code was not provided'));
    const def = serviceDefinition(code, lang);
    if (!def) throw new Open311Error(404, zhen(lang, `service_code ${code} 不存在`, `service_code ${code} not found`));
    return { status: 200, root: 'service_definition', body: def };
  }

  // ---- POST requests ------------------------------------------------------------------------------

  async postRequest(
    input: PostInput,
    host: string | null,
    lang: Lang,
    client: PostClient = { ip: null },
  ): Promise<Open311Result> {
    const f = input.fields;
    const get = (k: string): string | undefined => {
      const v = f[k];
      return v === undefined || v.trim() === '' ? undefined : v;
    };

    // 0. The address's rate limit, before anything costs (a wrong key in a loop counts too).
    await this.limit(() => this.flood.address(client.ip), lang);

    // 1. The key (403 before anything else is looked at).
    const key = get('api_key')?.trim();
    if (!key) {
      const none = !(await this.deps.store.anyKey());
      throw new Open311Error(
        403,
        zhen(
          lang,
          `缺少 api_key，无法提交服务请求。${none ? '本平台尚未签发任何密钥：请管理员先调用 POST /api/open311/keys 创建。' : ''}`,
          `api_key is missing -- can't proceed with create_request.${none ? ' No key has been issued on this platform yet: an administrator creates one with POST /api/open311/keys.' : ''}`,
        ),
      );
    }
    const keyId = await this.deps.store.verifyKey(key);
    if (!keyId)
      throw new Open311Error(
        403,
        zhen(
          lang,
          'api_key 无效或已吊销，无法提交服务请求。',
          "Invalid api_key received -- can't proceed with create_request.",
        ),
      );
    await this.limit(() => this.flood.key(keyId), lang);

    // 2. Jurisdiction and service.
    const district = this.jurisdiction(get('jurisdiction_id'), host, lang);
    const code = get('service_code')?.trim();
    if (!code) throw new Open311Error(400, zhen(lang, '缺少 service_code', 'service_code was not provided'));
    if (!isService(code))
      throw new Open311Error(404, zhen(lang, `service_code ${code} 不存在`, `service_code ${code} not found`));

    // 3. Location: lat & long. This installation has no geocoder, so address_string/address_id alone
    //    cannot place the case on a grid: refused with 400 (the spec would accept them).
    const latS = get('lat');
    const lngS = get('long');
    const errors: string[] = [];
    let location: [number, number] | null = null;
    if (latS === undefined && lngS === undefined) {
      errors.push(
        get('address_string') || get('address_id')
          ? zhen(
              lang,
              '本接口无法进行地址解析：请同时提供 lat 和 long（WGS-84）。address_string 可作为补充说明一并提交。',
              'This endpoint cannot geocode addresses: lat and long (WGS-84) are required. address_string may be sent as well, as a description.',
            )
          : zhen(lang, '缺少位置：请提供 lat 和 long（WGS-84）。', 'A location is required: lat and long (WGS-84).'),
      );
    } else if (latS === undefined || lngS === undefined) {
      errors.push(zhen(lang, 'lat 和 long 必须同时提供。', 'lat and long must both be sent.'));
    } else {
      const lat = strictNumber(latS);
      const lng = strictNumber(lngS);
      if (lat === null || lat < -90 || lat > 90)
        errors.push(zhen(lang, 'lat 必须是 -90 到 90 之间的数字。', 'lat must be a number from -90 to 90.'));
      if (lng === null || lng < -180 || lng > 180)
        errors.push(zhen(lang, 'long 必须是 -180 到 180 之间的数字。', 'long must be a number from -180 to 180.'));
      if (lat !== null && lng !== null && errors.length === 0) location = [lng, lat];
    }
    if (location) {
      const j = this.deps.grids.join(location[0], location[1]);
      const districts = this.deps.grids.districts();
      if (districts.length > 0 && j.grid === null)
        errors.push(
          zhen(lang, '该位置不在本平台的网格范围内。', 'This location is outside the area this endpoint serves.'),
        );
      else if (district && j.district !== district.code)
        errors.push(
          zhen(lang, `该位置不在辖区 ${district.code} 内。`, `This location is not in jurisdiction ${district.code}.`),
        );
    }

    // 4. Free text and contact fields.
    const description = clean(get('description'));
    if (description !== undefined && description.length > MAX_DESCRIPTION)
      errors.push(
        zhen(
          lang,
          `description 不能超过 ${MAX_DESCRIPTION} 个字符。`,
          `description is limited to ${MAX_DESCRIPTION} characters.`,
        ),
      );
    const addressString = clean(get('address_string'));
    const mediaUrl = get('media_url')?.trim();
    if (mediaUrl !== undefined && !isHttpUrl(mediaUrl))
      errors.push(zhen(lang, 'media_url 必须是 http(s) 网址。', 'media_url must be an http(s) URL.'));
    const email = get('email')?.trim();
    if (email !== undefined && (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)))
      errors.push(zhen(lang, 'email 格式不正确。', 'email is not a valid address.'));
    const limits: [string, number][] = [
      ['address_string', 500],
      ['address_id', 200],
      ['first_name', 100],
      ['last_name', 100],
      ['phone', 40],
      ['device_id', 200],
      ['account_id', 200],
    ];
    for (const [k, max] of limits)
      if ((get(k)?.length ?? 0) > max)
        errors.push(zhen(lang, `${k} 不能超过 ${max} 个字符。`, `${k} is limited to ${max} characters.`));

    // 5. Attributes of the service definition.
    let attributes: Record<string, unknown> = {};
    try {
      attributes = checkAttributes(code, input.attributes, lang);
    } catch (e) {
      if (e instanceof AttributeError) errors.push(e.message);
      else throw e;
    }
    if (errors.length) throw new Open311Error(400, errors);
    // The photo is checked (and its public copy made) before any case exists: a refused file makes none.
    const media = input.media ? await prepareMedia(input.media, lang) : null;

    const cases = this.requireCases(lang);
    const name = [get('first_name'), get('last_name')]
      .filter((x): x is string => !!x)
      .map((x) => x.trim())
      .join(' ');
    const reporter: NonNullable<IntakeInput['reporter']> = {};
    if (name) reporter.name = name;
    if (email) reporter.email = email;
    if (get('phone')) reporter.phone = get('phone')!.trim();
    if (get('device_id')) reporter.deviceId = get('device_id')!.trim();
    if (get('account_id')) reporter.accountId = get('account_id')!.trim();

    const title = truncate(serviceName(code, 'zh') + (addressString ? ` · ${addressString}` : ''), 120);
    const intake: IntakeInput = {
      title,
      description: description ?? '',
      category: code,
      location: location!,
      source: 'citizen',
      ...(Object.keys(reporter).length ? { reporter } : {}),
      ...(addressString ? { address: addressString } : {}),
      ...(mediaUrl ? { mediaUrl } : {}),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    };
    const fingerprint = fingerprintOf(code, description);
    const answer = (publicId: string, token: string, folded: boolean): Open311Result => ({
      status: 201,
      root: 'service_requests',
      // realtime services: the id, not a token (the spec returns one or the other). The token goes in
      // the Open311-Token header for clients that want to use GET tokens/{token}. A folded submission
      // says so in Open311-Duplicate-Of (the id it was folded into, the same as in the body).
      headers: { 'Open311-Token': token, ...(folded ? { 'Open311-Duplicate-Of': publicId } : {}) },
      body: [
        {
          service_request_id: publicId,
          service_notice: folded ? duplicateNotice(lang) : postNotice(lang),
          account_id: get('account_id')?.trim() ?? null,
        },
      ],
    });

    // Identical submissions of one fingerprint go one at a time: the first makes the case, the rest fold.
    return this.flood.serial(fingerprint, async () => {
      const since = this.deps.now() - this.flood.limits.foldWindowMs;
      const similar = await this.deps.store.recentSimilar(fingerprint, keyId, client.ip, since);
      const same = similar.find((r) => r.location && distanceM(r.location, location!) <= FOLD_RADIUS_M);
      if (same) return answer(same.publicId, same.token, true);

      let created: Case;
      try {
        created = await cases.intake(intake, SYSTEM_ACTOR);
      } catch (e) {
        throw this.fromDomain(e, lang);
      }
      const token = this.deps.newToken();
      const publicId = this.deps.newPublicId();
      try {
        await this.deps.store.saveRequest({
          caseId: created.id,
          code: created.code,
          publicId,
          token,
          keyId,
          addressId: get('address_id')?.trim() ?? null,
          clientIp: client.ip,
          fingerprint,
          location,
        });
        if (media) await this.deps.store.saveMedia(created.id, media);
      } catch (e) {
        // The case exists; its public id is then made when it is first shown. Never fail the report for it.
        this.deps.log?.error({ err: e, case: created.code }, 'open311: saving the request row failed');
        const rows = await this.deps.store
          .ensureRows([created], () => ({ publicId, token }))
          .catch(() => new Map<string, RequestRow>());
        const row = rows.get(created.id);
        if (row) return answer(row.publicId, row.token, false);
      }
      return answer(publicId, token, false);
    });
  }

  /** Run a rate-limit check, turning a refusal into 429 with Retry-After in the GeoReport error format. */
  private async limit(check: () => Promise<void>, lang: Lang): Promise<void> {
    try {
      await check();
    } catch (e) {
      if (!(e instanceof RateLimited)) throw e;
      throw new Open311Error(
        429,
        e.what === 'key'
          ? zhen(
              lang,
              `该 api_key 提交过于频繁，请 ${e.retryAfterS} 秒后再试。`,
              `Too many requests with this api_key; try again in ${e.retryAfterS} s.`,
            )
          : zhen(
              lang,
              `提交过于频繁，请 ${e.retryAfterS} 秒后再试。`,
              `Too many requests from this address; try again in ${e.retryAfterS} s.`,
            ),
        { 'retry-after': String(e.retryAfterS) },
      );
    }
  }

  // ---- GET requests -------------------------------------------------------------------------------

  /** `origin`: this endpoint's public origin, for the media_url of uploaded photos. */
  async getRequests(q: URLSearchParams, host: string | null, lang: Lang, origin = ''): Promise<Open311Result> {
    const district = this.jurisdiction(q.get('jurisdiction_id'), host, lang);
    const cases = this.requireCases(lang);
    const list = (k: string) =>
      (q.getAll(k).join(',') || '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

    // service_request_id overrides every other argument.
    const ids = [...new Set(list('service_request_id'))];
    if (ids.length) {
      if (ids.length > MAX_RESULTS)
        throw new Open311Error(
          400,
          zhen(
            lang,
            `一次最多查询 ${MAX_RESULTS} 个 service_request_id。`,
            `At most ${MAX_RESULTS} service_request_id at once.`,
          ),
        );
      const found: CaseDoc[] = [];
      for (const id of ids) {
        const c = await this.findRequest(cases, id, district, lang);
        if (c) found.push(c);
      }
      return { status: 200, root: 'service_requests', body: await this.render(found, lang, origin) };
    }

    const errors: string[] = [];
    const date = (k: string): number | null => {
      const v = q.get(k)?.trim();
      if (!v) return null;
      const t = parseW3cDatetime(v);
      if (t === null)
        errors.push(
          zhen(
            lang,
            `${k} 必须是 w3 时间格式，如 2010-01-01T00:00:00Z。`,
            `${k} must use w3 format, e.g. 2010-01-01T00:00:00Z.`,
          ),
        );
      return t;
    };
    let start = date('start_date');
    let end = date('end_date');
    const statuses = list('status');
    for (const s of statuses)
      if (s !== 'open' && s !== 'closed')
        errors.push(
          zhen(lang, `status 只能是 open 或 closed（收到 ${s}）。`, `status must be open or closed (got ${s}).`),
        );
    const codes = [...new Set(list('service_code'))];
    for (const c of codes)
      if (!isService(c)) errors.push(zhen(lang, `service_code ${c} 不存在。`, `service_code ${c} not found.`));
    if (errors.length) throw new Open311Error(400, errors);

    // The window: most recent 90 days by default; one bound given, 90 days from/to it; never over 90 days.
    if (start === null && end === null) {
      end = this.deps.now();
      start = end - WINDOW_MS;
    } else if (end === null) end = start! + WINDOW_MS;
    else if (start === null) start = end - WINDOW_MS;
    if (end! < start!)
      throw new Open311Error(400, zhen(lang, 'end_date 早于 start_date。', 'end_date is before start_date.'));
    if (end! - start! > WINDOW_MS)
      throw new Open311Error(
        400,
        zhen(
          lang,
          'start_date 与 end_date 的跨度不能超过 90 天。',
          'start_date to end_date may not span more than 90 days.',
        ),
      );

    const wanted = new Set(statuses);
    const states = [
      ...(wanted.size === 0 || wanted.has('open') ? OPEN_REQUEST_STATES : []),
      ...(wanted.size === 0 || wanted.has('closed') ? CLOSED_STATES : []),
    ];
    const from = start!;
    const to = end! + 1; // end_date is inclusive; CaseFilter.to is exclusive
    const byId = new Map<string, CaseDoc>();
    for (const code of codes.length ? codes : [undefined]) {
      let cursor: string | undefined;
      let got = 0;
      do {
        const filter: CaseFilter = {
          source: 'citizen',
          state: [...states],
          from,
          to,
          limit: 500,
          ...(code ? { category: code } : {}),
          ...(district ? { grid: district.code } : {}),
          ...(cursor ? { cursor } : {}),
        };
        let page;
        try {
          page = await cases.list(filter, SYSTEM_ACTOR);
        } catch (e) {
          throw this.fromDomain(e, lang);
        }
        for (const c of page.cases as CaseDoc[]) {
          if (c.source !== 'citizen' || (code && c.category !== code) || !states.includes(c.state)) continue;
          if (c.createdAt < from || c.createdAt >= to) continue;
          if (district && !(c.grid.district === district.code || (c.grid.grid ?? '').startsWith(district.code)))
            continue;
          if (!byId.has(c.id)) {
            byId.set(c.id, c);
            got++;
          }
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor && got < MAX_RESULTS);
    }
    const found = [...byId.values()]
      .sort((a, b) => b.createdAt - a.createdAt || (a.code < b.code ? 1 : -1))
      .slice(0, MAX_RESULTS);
    return { status: 200, root: 'service_requests', body: await this.render(found, lang, origin) };
  }

  async getRequest(
    id: string,
    q: URLSearchParams,
    host: string | null,
    lang: Lang,
    origin = '',
  ): Promise<Open311Result> {
    const district = this.jurisdiction(q.get('jurisdiction_id'), host, lang);
    const cases = this.requireCases(lang);
    if (!id) throw new Open311Error(400, zhen(lang, '缺少 service_request_id', 'service_request_id was not provided'));
    const c = await this.findRequest(cases, id, district, lang);
    if (!c)
      throw new Open311Error(404, zhen(lang, `service_request_id ${id} 不存在`, `service_request_id ${id} not found`));
    return { status: 200, root: 'service_requests', body: await this.render([c], lang, origin) };
  }

  async token(token: string, q: URLSearchParams, host: string | null, lang: Lang): Promise<Open311Result> {
    this.jurisdiction(q.get('jurisdiction_id'), host, lang);
    if (!token) throw new Open311Error(400, zhen(lang, '缺少 token', 'token was not provided'));
    const row = await this.deps.store.byToken(token);
    if (!row) throw new Open311Error(404, zhen(lang, `token ${token} 不存在`, `token ${token} not found`));
    return { status: 200, root: 'service_requests', body: [{ service_request_id: row.publicId, token: row.token }] };
  }

  /**
   * The public copy of a request's uploaded photo (re-encoded JPEG without metadata), by public id; null when
   * the request has none. Served at /open311/v2/media/{service_request_id}.jpg.
   */
  async media(publicId: string): Promise<{ mime: string; bytes: Buffer } | null> {
    return this.deps.store.publicMedia(publicId);
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private requireCases(lang: Lang): CasePort {
    const c = this.deps.cases();
    if (!c)
      throw new Open311Error(
        503,
        zhen(lang, '案件服务尚未就绪，请稍后再试。', 'The case service is not available yet; try again shortly.'),
      );
    return c;
  }

  /**
   * The citizen case with this public id (in the district, when one is given); null when there is none.
   * Only the public id resolves: the sequential case code does not (it could be counted).
   */
  private async findRequest(
    cases: CasePort,
    publicId: string,
    district: District | null,
    lang: Lang,
  ): Promise<CaseDoc | null> {
    if (publicId.length > 100) return null;
    const row = await this.deps.store.byPublicId(publicId);
    if (!row) return null;
    let c: CaseDoc;
    try {
      c = (await cases.get(row.caseId, SYSTEM_ACTOR)) as CaseDoc;
    } catch (e) {
      if (isDomainErrorLike(e) && (e.code === 'not_found' || e.code === 'outside_scope' || e.code === 'invalid_code'))
        return null;
      throw this.fromDomain(e, lang);
    }
    if (c.source !== 'citizen') return null;
    if (district && c.grid.district !== district.code && !(c.grid.grid ?? '').startsWith(district.code)) return null;
    return c;
  }

  /** Map cases to service requests, with the lookups the mapping needs done once per page. */
  private async render(list: CaseDoc[], lang: Lang, origin: string): Promise<ServiceRequestJson[]> {
    if (list.length === 0) return [];
    const cases = this.requireCases(lang);
    const ids = list.map((c) => c.id);
    const fresh = () => ({ publicId: this.deps.newPublicId(), token: this.deps.newToken() });
    const [departments, rows, notes, reporters] = await Promise.all([
      this.deps.departments(),
      this.deps.store.ensureRows(list, fresh),
      this.deps.store.publicNotes(ids),
      this.deps.store.reporters(ids),
    ]);
    // A merged request names the surviving one by its public id — only when that is a citizen request too.
    const survivorCases: CaseDoc[] = [];
    for (const id of new Set(list.filter((c) => c.state === 'merged' && c.mergedInto).map((c) => c.mergedInto!))) {
      const t = (await cases.get(id, SYSTEM_ACTOR).catch(() => null)) as CaseDoc | null;
      if (t && t.source === 'citizen') survivorCases.push(t);
    }
    const survivors = survivorCases.length
      ? await this.deps.store.ensureRows(survivorCases, fresh)
      : new Map<string, RequestRow>();
    const ctx: MapContext = {
      lang,
      departmentName: (id) => departments.get(id)?.[lang] ?? null,
      gridName: (code) => this.deps.grids.name(code),
      publicNote: (c) => notes.get(c.id) ?? null,
      mergedIntoId: (c) => (c.mergedInto ? (survivors.get(c.mergedInto)?.publicId ?? null) : null),
      row: (c) => rows.get(c.id),
      names: (c) => namesOf(reporters.get(c.id) as ReporterContact | undefined),
      mediaUrl: (c) => {
        const row = rows.get(c.id);
        return row?.publicMediaEvidence ? `${origin}/open311/v2/media/${row.publicId}.jpg` : null;
      },
    };
    return list.map((c) => toServiceRequest(c, ctx));
  }

  /** A case-service error as an Open311 error: not found → 404, a refused input → 400, else rethrown. */
  private fromDomain(e: unknown, lang: Lang): unknown {
    if (e instanceof Open311Error) return e;
    if (isDomainErrorLike(e)) {
      if (e.code === 'not_found') return new Open311Error(404, e.message);
      if (e.status >= 400 && e.status < 500 && e.code !== 'unauthorized' && e.code !== 'forbidden')
        return new Open311Error(400, e.message || zhen(lang, '请求无法处理。', 'The request could not be processed.'));
    }
    return e;
  }
}

/**
 * A DomainError from the case service. Checked by shape, not `instanceof`: the web bundle carries its own
 * copy of core/errors.ts, so an error thrown by the platform process's case service is not an instance of
 * the bundle's DomainError class.
 */
export function isDomainErrorLike(e: unknown): e is DomainError {
  return (
    e instanceof Error &&
    e.name === 'DomainError' &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { status?: unknown }).status === 'number'
  );
}

function strictNumber(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function isHttpUrl(s: string): boolean {
  if (s.length > 2000) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}

/**
 * Free text as stored: trimmed, line ends normalised to LF (browsers post textarea line breaks as CR LF,
 * which XML parsers would turn into LF anyway), without characters XML cannot carry. undefined for empty.
 */
function clean(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = stripNonXmlChars(s).replace(/\r\n?/g, '\n').trim();
  return t === '' ? undefined : t;
}

function truncate(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : chars.slice(0, n - 1).join('') + '…';
}
