/**
 * Test doubles for the Open311 unit tests: an in-memory CasePort (just enough of the agreed interface of
 * ingest/cases/port.ts), an in-memory Open311Store, and deps for Open311Api over a one-district grid.
 */
import { DomainError } from '../../core/errors.ts';
import type { Actor, Case, CaseAction, CaseState } from '../../core/cases/types.ts';
import type { CaseFilter, CasePage, CasePort, IntakeInput, TrailEntry } from '../cases/port.ts';
import type { Open311Deps } from './api.ts';
import type { NewRequestRow, Open311Store, PublicNote, RequestRow } from './store.ts';

export const DISTRICT = '120106';
export const GRID = '120106001001001';
export const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);

export type StoredDoc = Case & { address?: string; mediaUrl?: string; attributes?: Record<string, unknown> };

export class FakeCases implements CasePort {
  readonly docs: StoredDoc[] = [];
  readonly reporters = new Map<string, unknown>();
  readonly trails = new Map<string, TrailEntry[]>();
  readonly intakes: { input: IntakeInput; actor: Actor }[] = [];
  listCalls: CaseFilter[] = [];
  now = T0;
  seq = 0;

  private make(over: Partial<StoredDoc>): StoredDoc {
    this.seq++;
    const at = over.createdAt ?? this.now;
    const day = new Date(at).toISOString().slice(0, 10).replace(/-/g, '');
    return {
      id: `c${this.seq}`,
      code: `HQ-${day}-${String(this.seq).padStart(4, '0')}`,
      title: 't',
      description: '',
      category: 'city_appearance.exposed_garbage',
      subcategory: null,
      state: 'reported',
      priority: 3,
      level: 'community',
      version: 1,
      grid: { district: DISTRICT, street: '120106001', community: '120106001001', grid: GRID },
      location: [117.2, 39.1],
      deadline: null,
      overdue: false,
      supervised: false,
      superviseCount: 0,
      reworkCount: 0,
      returnCount: 0,
      reopenCount: 0,
      assignee: null,
      whistles: [],
      satisfaction: null,
      evaluatedAt: null,
      mergedInto: null,
      linkedCameras: [],
      eventCount: 1,
      source: 'citizen',
      result: null,
      evidence: [],
      createdAt: at,
      updatedAt: at,
      registeredAt: null,
      dispatchedAt: null,
      handledAt: null,
      handledBy: null,
      closedAt: null,
      closedOnTime: null,
      ...over,
    };
  }

  /** Put a case straight into the store (any source, state, time). */
  seed(over: Partial<StoredDoc>): StoredDoc {
    const c = this.make(over);
    this.docs.push(c);
    return c;
  }

  async intake(input: IntakeInput, actor: Actor): Promise<Case> {
    this.intakes.push({ input, actor });
    if (input.title === 'boom') throw new DomainError('validation_failed', 'title refused');
    const c = this.make({
      title: input.title,
      description: input.description ?? '',
      category: input.category,
      location: input.location,
      source: input.source,
      ...(input.address ? { address: input.address } : {}),
      ...(input.mediaUrl ? { mediaUrl: input.mediaUrl } : {}),
      ...(input.attributes ? { attributes: input.attributes } : {}),
    });
    this.docs.push(c);
    if (input.reporter) this.reporters.set(c.id, input.reporter);
    return structuredClone(c);
  }

  async get(id: string): Promise<Case> {
    const c = this.docs.find((d) => d.id === id);
    if (!c) throw new DomainError('not_found', `case ${id} not found`);
    return structuredClone(c);
  }

  async getByCode(code: string): Promise<Case> {
    const c = this.docs.find((d) => d.code === code);
    if (!c) throw new DomainError('not_found', `case ${code} not found`);
    return structuredClone(c);
  }

  async list(filter: CaseFilter): Promise<CasePage> {
    this.listCalls.push(filter);
    const all = this.docs
      .filter(
        (c) =>
          (!filter.state || filter.state.includes(c.state)) &&
          (!filter.category || c.category === filter.category) &&
          (!filter.source || c.source === filter.source) &&
          (filter.from === undefined || c.createdAt >= filter.from) &&
          (filter.to === undefined || c.createdAt < filter.to) &&
          (!filter.grid || (c.grid.grid ?? '').startsWith(filter.grid)),
      )
      .sort((a, b) => b.createdAt - a.createdAt);
    const start = filter.cursor ? Number(filter.cursor) : 0;
    const limit = Math.min(filter.limit ?? 50, 500);
    const page = all.slice(start, start + limit);
    return {
      cases: structuredClone(page),
      nextCursor: start + limit < all.length ? String(start + limit) : null,
    };
  }

  async act(id: string, action: CaseAction & { version: number }): Promise<Case> {
    const c = this.docs.find((d) => d.id === id);
    if (!c) throw new DomainError('not_found', 'no case');
    const set = (state: CaseState, extra: Partial<StoredDoc> = {}) => Object.assign(c, { state, ...extra });
    switch (action.action) {
      case 'reject':
        set('rejected', { closedAt: this.now });
        this.pushTrail(c.id, 'reject', { reason: action.reason });
        break;
      case 'merge':
        set('merged', { mergedInto: action.into });
        break;
      case 'register':
        set('registered', { deadline: this.now + 86_400_000 });
        break;
      case 'dispatch':
        set('dispatched', { assignee: action.to });
        break;
      case 'claim':
        set('in_progress');
        break;
      case 'handle':
        set('handled', { result: action.result });
        break;
      case 'verify':
        set(action.pass ? 'closed' : 'in_progress', action.pass ? { closedAt: this.now } : {});
        break;
      default:
        throw new DomainError('illegal_transition', `fake: ${action.action}`);
    }
    c.version++;
    c.updatedAt = this.now;
    return structuredClone(c);
  }

  private pushTrail(caseId: string, action: string, data: Record<string, unknown>) {
    const list = this.trails.get(caseId) ?? [];
    list.push({
      seq: list.length,
      action,
      actor: 'd1',
      role: 'dispatcher',
      at: new Date(this.now).toISOString(),
      note: null,
      data,
      prevHash: '',
      hash: '',
    });
    this.trails.set(caseId, list);
  }

  async trail(id: string) {
    return { entries: this.trails.get(id) ?? [], verified: true, brokenAt: null };
  }

  allowedActions(): string[] {
    return [];
  }
}

export class MemoryStore implements Open311Store {
  keys = new Map<string, string>(); // key → id
  revoked = new Set<string>();
  rows: RequestRow[] = [];
  /** caseId → the latest public note (what the case trail would give). */
  notes = new Map<string, PublicNote>();
  /** caseId → reporter contact. */
  reporterOf = new Map<string, Record<string, unknown>>();
  media = new Map<string, { mime: string; original: Buffer; publicJpeg: Buffer }>();
  now = T0;

  async verifyKey(key: string) {
    const id = this.keys.get(key);
    return id && !this.revoked.has(id) ? id : null;
  }
  async anyKey() {
    return [...this.keys.values()].some((id) => !this.revoked.has(id));
  }
  async saveRequest(row: NewRequestRow) {
    this.rows.push({ ...row, createdAt: this.now });
  }
  async byPublicId(publicId: string) {
    return this.rows.find((r) => r.publicId === publicId) ?? null;
  }
  async ensureRows(cases: { id: string; code: string }[], fresh: () => { publicId: string; token: string }) {
    for (const c of cases)
      if (!this.rows.some((r) => r.caseId === c.id))
        this.rows.push({ caseId: c.id, code: c.code, ...fresh(), keyId: null, addressId: null, createdAt: this.now });
    return this.byCaseIds(cases.map((c) => c.id));
  }
  async recentSimilar(fingerprint: string, keyId: string, clientIp: string | null, since: number) {
    return this.rows.filter(
      (r) => r.fingerprint === fingerprint && r.createdAt >= since && (r.keyId === keyId || r.clientIp === clientIp),
    );
  }
  async publicNotes(caseIds: string[]) {
    return new Map([...this.notes].filter(([id]) => caseIds.includes(id)));
  }
  async reporters(caseIds: string[]) {
    return new Map([...this.reporterOf].filter(([id]) => caseIds.includes(id)));
  }
  async saveMedia(caseId: string, m: { mime: string; original: Buffer; publicJpeg: Buffer }) {
    this.media.set(caseId, m);
    const row = this.rows.find((r) => r.caseId === caseId)!;
    row.mediaEvidence = 1;
    row.publicMediaEvidence = 2;
    return { original: 1, public: 2 };
  }
  async publicMedia(publicId: string) {
    const row = this.rows.find((r) => r.publicId === publicId);
    const m = row && this.media.get(row.caseId);
    return m ? { mime: 'image/jpeg', bytes: m.publicJpeg } : null;
  }
  /** The public id of a case: its row's, or a new row's (as the API makes when a case is first shown). */
  idFor(c: { id: string; code: string }): string {
    const have = this.rows.find((r) => r.caseId === c.id);
    if (have) return have.publicId;
    const publicId = Buffer.from(`pid:${c.id}`).toString('hex').padEnd(20, '0').slice(0, 20);
    this.rows.push({
      caseId: c.id,
      code: c.code,
      publicId,
      token: `t-${c.id}`,
      keyId: null,
      addressId: null,
      createdAt: this.now,
    });
    return publicId;
  }

  /** The public id of a case, if it has one. */
  publicIdOf(caseId: string): string | undefined {
    return this.rows.find((r) => r.caseId === caseId)?.publicId;
  }
  async byToken(token: string) {
    return this.rows.find((r) => r.token === token) ?? null;
  }
  async byCaseIds(ids: string[]) {
    return new Map(this.rows.filter((r) => ids.includes(r.caseId)).map((r) => [r.caseId, r]));
  }
}

const GRID_NAMES: Record<string, string> = {
  [DISTRICT]: '示范区',
  '120106001': '东风街道',
  '120106001001': '景福新村社区',
  [GRID]: '景福新村社区第1网格',
};

export function fakeDeps(cases: FakeCases | undefined, store: MemoryStore, now = () => T0): Open311Deps {
  let n = 0;
  let p = 0;
  if (cases) store.reporterOf = cases.reporters as Map<string, Record<string, unknown>>;
  return {
    cases: () => cases,
    store,
    departments: async () =>
      new Map([
        ['urban', { zh: '城市管理（城管）', en: 'Urban Management' }],
        ['fire', { zh: '消防救援', en: 'Fire and Rescue' }],
      ]),
    grids: {
      // Inside: lng 117..118, lat 39..40.
      join: (lng, lat) =>
        lng >= 117 && lng < 118 && lat >= 39 && lat < 40
          ? { district: DISTRICT, grid: GRID }
          : { district: null, grid: null },
      name: (code) => GRID_NAMES[code] ?? null,
      districts: () => [{ code: DISTRICT, name: '示范区' }],
    },
    now,
    newToken: () => `tok${++n}`,
    // Not sequential-looking on purpose: tests must not be able to guess them from case codes.
    newPublicId: () => `${(++p * 2654435761).toString(16).padStart(20, '0').slice(-20)}`,
  };
}
