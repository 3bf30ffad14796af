/**
 * The Open311 service catalogue: one service per event category (core/cases/categories.ts), service_code =
 * the category id. A few services define attributes (GeoReport v2 "service definitions"); the rest have
 * none (`metadata: false`). Attribute values posted as `attribute[code]=…` are checked here against the
 * definition and normalised (numbers as numbers, datetimes as ISO-8601 UTC, lists as arrays of keys).
 */
import { CATEGORIES, DEPARTMENTS, categoryById, type Category } from '../../core/cases/categories.ts';
import { tr, type Lang, type Text } from './lang.ts';

/** Changes whenever the catalogue (services or their definitions) changes: discovery's `changeset`. */
export const CATALOGUE_CHANGESET = '2026-11-24T00:00:00Z';

export type Datatype = 'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist';

export interface AttributeDef {
  code: string;
  /** false: shown to the user as information only, no input. */
  variable: boolean;
  datatype: Datatype;
  required: boolean;
  datatypeDescription: Text | null;
  description: Text;
  values?: { key: string; name: Text }[];
}

const SEVERITY: AttributeDef = {
  code: 'severity',
  variable: true,
  datatype: 'singlevaluelist',
  required: false,
  datatypeDescription: { zh: '选择一项', en: 'Choose one' },
  description: { zh: '现场情况有多严重？', en: 'How serious is it?' },
  values: [
    { key: 'minor', name: { zh: '轻微', en: 'Minor' } },
    { key: 'moderate', name: { zh: '较重', en: 'Moderate' } },
    { key: 'severe', name: { zh: '严重（危及人身安全）', en: 'Severe (danger to people)' } },
  ],
};

const CALL_119: AttributeDef = {
  code: 'call_119',
  variable: false,
  datatype: 'string',
  required: false,
  datatypeDescription: null,
  description: {
    zh: '正在发生的火灾请立即拨打 119：本表单不会直接通知消防队。',
    en: 'For a fire in progress call 119 at once: this form does not alert the fire brigade directly.',
  },
};

/** Attributes by category id (exact id, or a class id for the class and all its subcategories). */
const ATTRIBUTES: Record<string, AttributeDef[]> = {
  emergency: [SEVERITY],
  fire: [CALL_119, SEVERITY],
  'city_appearance.graffiti': [
    {
      code: 'surface',
      variable: true,
      datatype: 'singlevaluelist',
      required: true,
      datatypeDescription: { zh: '选择一项', en: 'Choose one' },
      description: { zh: '涂画在什么上面？', en: 'What is the graffiti on?' },
      values: [
        { key: 'wall', name: { zh: '墙面', en: 'Wall' } },
        { key: 'pavement', name: { zh: '路面', en: 'Pavement' } },
        { key: 'pole', name: { zh: '杆体、箱体', en: 'Pole or cabinet' } },
        { key: 'other', name: { zh: '其他', en: 'Other' } },
      ],
    },
  ],
  'street_order.illegal_parking': [
    {
      code: 'plate',
      variable: true,
      datatype: 'string',
      required: false,
      datatypeDescription: { zh: '如 津A12345', en: 'e.g. 津A12345' },
      description: { zh: '车牌号（如看得到）', en: 'Licence plate, if visible' },
    },
    {
      code: 'vehicle_count',
      variable: true,
      datatype: 'number',
      required: false,
      datatypeDescription: { zh: '整数', en: 'A whole number' },
      description: { zh: '违停车辆数', en: 'How many vehicles' },
    },
  ],
  'facility_fault.streetlight_fault': [
    {
      code: 'fault_kind',
      variable: true,
      datatype: 'multivaluelist',
      required: true,
      datatypeDescription: { zh: '可多选', en: 'Choose one or more' },
      description: { zh: '路灯出了什么问题？', en: 'What is wrong with the light?' },
      values: [
        { key: 'off', name: { zh: '不亮', en: 'Not lit' } },
        { key: 'flickering', name: { zh: '闪烁', en: 'Flickering' } },
        { key: 'day_burning', name: { zh: '白天常亮', en: 'Lit in daytime' } },
        { key: 'damaged', name: { zh: '灯杆或灯具损坏', en: 'Pole or lamp damaged' } },
      ],
    },
    {
      code: 'pole_number',
      variable: true,
      datatype: 'string',
      required: false,
      datatypeDescription: null,
      description: { zh: '灯杆编号（杆身上的牌子）', en: 'Pole number (on the plate on the pole)' },
    },
  ],
  'construction.construction_dust': [
    {
      code: 'observed_at',
      variable: true,
      datatype: 'datetime',
      required: false,
      datatypeDescription: {
        zh: 'ISO 8601，如 2026-11-24T08:30:00+08:00',
        en: 'ISO 8601, e.g. 2026-11-24T08:30:00+08:00',
      },
      description: { zh: '看到扬尘的时间', en: 'When the dust was seen' },
    },
    {
      code: 'details',
      variable: true,
      datatype: 'text',
      required: false,
      datatypeDescription: null,
      description: { zh: '工地名称、施工单位等补充信息', en: 'Site name, contractor or other details' },
    },
  ],
};

/** The attribute definitions of a service, in presentation order. */
export function attributesOf(code: string): AttributeDef[] {
  const cat = categoryById(code);
  if (!cat) return [];
  return ATTRIBUTES[code] ?? (cat.parent ? ATTRIBUTES[cat.parent] : undefined) ?? [];
}

export function isService(code: string): boolean {
  return categoryById(code) !== undefined;
}

export function serviceName(code: string, lang: Lang): string {
  const c = categoryById(code);
  return c ? c[lang] : code;
}

function classOfCat(c: Category): Category {
  return c.parent ? (categoryById(c.parent) ?? c) : c;
}

export interface ServiceJson {
  service_code: string;
  service_name: string;
  description: string;
  metadata: boolean;
  type: 'realtime';
  keywords: string;
  group: string;
}

function describe(c: Category, lang: Lang): string {
  const cls = classOfCat(c);
  const dept = DEPARTMENTS[c.department];
  if (lang === 'zh') {
    const what = c.parent ? `${cls.zh}：${c.zh}` : `${c.zh}（本类其他问题）`;
    return `${what}。默认承办部门：${dept.zh}。`;
  }
  const what = c.parent ? `${cls.en}: ${c.en}` : `${c.en} (other issues of this kind)`;
  return `${what}. Handled by default by: ${dept.en}.`;
}

function keywordsOf(c: Category, lang: Lang): string {
  const cls = classOfCat(c);
  const other: Lang = lang === 'zh' ? 'en' : 'zh';
  const words = [c[other], c.id.slice(c.id.indexOf('.') + 1).replace(/_/g, ' ')];
  if (c.parent) words.push(cls[lang], cls[other]);
  const seen = new Set<string>();
  return words.filter((w) => !seen.has(w.toLowerCase()) && seen.add(w.toLowerCase())).join(', ');
}

/** GET services: every category, classes first within their group. */
export function serviceList(lang: Lang): ServiceJson[] {
  return CATEGORIES.map((c) => ({
    service_code: c.id,
    service_name: c[lang],
    description: describe(c, lang),
    metadata: attributesOf(c.id).length > 0,
    type: 'realtime' as const,
    keywords: keywordsOf(c, lang),
    group: classOfCat(c)[lang],
  }));
}

export interface ServiceDefinitionJson {
  service_code: string;
  attributes: {
    variable: boolean;
    code: string;
    datatype: Datatype;
    required: boolean;
    datatype_description: string | null;
    order: number;
    description: string;
    values?: { key: string; name: string }[];
  }[];
}

/** GET service definition; null for an unknown service_code. */
export function serviceDefinition(code: string, lang: Lang): ServiceDefinitionJson | null {
  if (!isService(code)) return null;
  return {
    service_code: code,
    attributes: attributesOf(code).map((a, i) => ({
      variable: a.variable,
      code: a.code,
      datatype: a.datatype,
      required: a.required,
      datatype_description: a.datatypeDescription ? tr(a.datatypeDescription, lang) : null,
      order: i + 1,
      description: tr(a.description, lang),
      ...(a.values ? { values: a.values.map((v) => ({ key: v.key, name: tr(v.name, lang) })) } : {}),
    })),
  };
}

// W3C-DTF (the "w3 note" profile of ISO 8601): YYYY, YYYY-MM, YYYY-MM-DD, or a date with hh:mm,
// hh:mm:ss or hh:mm:ss.s and a time zone (Z or ±hh:mm), which the spec makes mandatory with a time.
const W3C_DATETIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * A W3C datetime → epoch ms; null when malformed. A date without a time is 00:00 UTC of that day (of the
 * first month/day when those are left out).
 */
export function parseW3cDatetime(s: string): number | null {
  const m = W3C_DATETIME.exec(s.trim());
  if (!m) return null;
  const [, y, mo = '01', d = '01', h, mi, sec, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return null;
  // Reject days a month does not have (2026-02-31).
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return null;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59)) return null;
  if (zone && zone !== 'Z' && (Number(zone.slice(1, 3)) > 14 || Number(zone.slice(4)) > 59)) return null;
  const iso =
    h === undefined
      ? `${y}-${mo}-${d}T00:00:00Z`
      : `${y}-${mo}-${d}T${h}:${mi}:${sec ?? '00'}${frac ? '.' + frac.slice(0, 3).padEnd(3, '0') : ''}${zone}`;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** Epoch ms → w3 datetime in UTC, whole seconds (`2010-01-01T00:00:00Z`). */
export function w3(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class AttributeError extends Error {}

/**
 * Check posted attribute values against the service definition and normalise them. Unknown codes and
 * informational (variable=false) attributes are ignored; a missing required attribute, a value outside a
 * list, a non-number or a bad datetime throws AttributeError with a message for the client.
 */
export function checkAttributes(
  code: string,
  posted: Record<string, string | string[]>,
  lang: Lang,
): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  for (const a of attributesOf(code)) {
    if (!a.variable) continue;
    const raw = posted[a.code];
    const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .map((v) => v.trim())
      .filter((v) => v !== '');
    const label = `attribute[${a.code}]`;
    if (list.length === 0) {
      if (a.required)
        throw new AttributeError(
          lang === 'zh' ? `缺少必填项 ${label}（${a.description.zh}）` : `${label} is required (${a.description.en})`,
        );
      continue;
    }
    if (a.datatype !== 'multivaluelist' && list.length > 1)
      throw new AttributeError(lang === 'zh' ? `${label} 只能有一个值` : `${label} takes one value`);
    const keys = a.values?.map((v) => v.key) ?? [];
    const one = list[0];
    switch (a.datatype) {
      case 'singlevaluelist':
      case 'multivaluelist': {
        const bad = list.filter((v) => !keys.includes(v));
        if (bad.length)
          throw new AttributeError(
            lang === 'zh'
              ? `${label} 的取值 ${bad.join(', ')} 不在可选项中（${keys.join(', ')}）`
              : `${label}: ${bad.join(', ')} is not one of ${keys.join(', ')}`,
          );
        out[a.code] = a.datatype === 'singlevaluelist' ? one : [...new Set(list)];
        break;
      }
      case 'number': {
        const n = Number(one);
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(one) || !Number.isFinite(n))
          throw new AttributeError(lang === 'zh' ? `${label} 必须是数字` : `${label} must be a number`);
        out[a.code] = n;
        break;
      }
      case 'datetime': {
        const t = parseW3cDatetime(one);
        if (t === null)
          throw new AttributeError(
            lang === 'zh'
              ? `${label} 必须是带时区的 ISO 8601 时间，如 2026-11-24T08:30:00+08:00`
              : `${label} must be an ISO 8601 datetime with a time zone, e.g. 2026-11-24T08:30:00+08:00`,
          );
        out[a.code] = w3(t);
        break;
      }
      case 'string':
        if (/[\r\n]/.test(one))
          throw new AttributeError(lang === 'zh' ? `${label} 不能换行` : `${label} must be a single line`);
        if (one.length > 500) throw new AttributeError(lang === 'zh' ? `${label} 过长` : `${label} is too long`);
        out[a.code] = one;
        break;
      case 'text':
        if (one.length > 4000) throw new AttributeError(lang === 'zh' ? `${label} 过长` : `${label} is too long`);
        out[a.code] = one;
        break;
    }
  }
  return out;
}
