/**
 * Event categories (事件分类) and routing to the responsible department.
 *
 * The five event classes are those of the national digital-city-management standard for managed
 * components and events (GB/T 30428.2-2013 数字化城市管理信息系统 第2部分：管理部件和事件 — event
 * classes 市容环境, 宣传广告, 施工管理, 街面秩序, 突发事件); the subcategories are a representative
 * selection of that standard's subclasses, not the full list. Three classes are added for cases raised
 * by devices: fire (火灾/火警), facility fault (设施故障) and environment monitoring (环境监测).
 *
 * Ids are stable (`class` or `class.subclass`, ASCII) and are what cases store; names are for display.
 */
import type { Priority } from './types.ts';

export type DepartmentId =
  'fire' | 'urban_management' | 'police' | 'public_works' | 'environment' | 'housing' | 'water';

export const DEPARTMENTS: Record<DepartmentId, { zh: string; en: string }> = {
  fire: { zh: '消防救援', en: 'Fire and rescue' },
  urban_management: { zh: '城市管理', en: 'Urban management' },
  police: { zh: '公安', en: 'Police' },
  public_works: { zh: '市政市容', en: 'Public works' },
  environment: { zh: '生态环境', en: 'Environment' },
  housing: { zh: '住房和城乡建设', en: 'Housing and construction' },
  water: { zh: '水务', en: 'Water' },
};

export interface Category {
  id: string;
  /** Class id for a subcategory; null for a class. */
  parent: string | null;
  zh: string;
  en: string;
  department: DepartmentId;
  priority: Priority;
}

type Sub = [id: string, zh: string, en: string, department?: DepartmentId, priority?: Priority];

function cls(
  id: string,
  zh: string,
  en: string,
  department: DepartmentId,
  priority: Priority,
  subs: Sub[],
): Category[] {
  return [
    { id, parent: null, zh, en, department, priority },
    ...subs.map(([s, szh, sen, d, p]) => ({
      id: `${id}.${s}`,
      parent: id,
      zh: szh,
      en: sen,
      department: d ?? department,
      priority: p ?? priority,
    })),
  ];
}

export const CATEGORIES: readonly Category[] = Object.freeze([
  ...cls('city_appearance', '市容环境', 'City appearance', 'urban_management', 3, [
    ['exposed_garbage', '暴露垃圾', 'Exposed garbage'],
    ['accumulated_waste', '积存垃圾渣土', 'Accumulated waste and muck'],
    ['overflowing_bin', '垃圾满溢', 'Overflowing bin'],
    ['road_dirty', '道路不洁', 'Dirty road'],
    ['piled_materials', '乱堆物堆料', 'Piled materials'],
    ['graffiti', '乱涂乱画', 'Graffiti'],
    ['open_burning', '露天焚烧', 'Open burning', 'environment', 2],
  ]),
  ...cls('advertising', '宣传广告', 'Advertising', 'urban_management', 4, [
    ['illegal_flyers', '非法小广告', 'Illegal flyers'],
    ['illegal_billboard', '违规户外广告', 'Unpermitted outdoor advertising'],
    ['damaged_signboard', '招牌破损', 'Damaged signboard', 'urban_management', 3],
    ['street_banner', '占道宣传', 'Banners and stalls on the street'],
  ]),
  ...cls('construction', '施工管理', 'Construction', 'housing', 3, [
    ['illegal_construction', '违法建设', 'Illegal construction', 'urban_management'],
    ['unlicensed_roadworks', '无证掘路', 'Unlicensed road digging', 'public_works'],
    ['construction_dust', '施工扬尘', 'Construction dust', 'environment'],
    ['muck_spill', '渣土遗撒', 'Muck spilled in transport', 'urban_management'],
    ['site_unfenced', '施工围挡缺失', 'Site without hoarding'],
  ]),
  ...cls('street_order', '街面秩序', 'Street order', 'urban_management', 3, [
    ['street_vending', '无照经营游商', 'Unlicensed street vending'],
    ['shop_spillover', '店外经营', 'Business spilling onto the pavement'],
    ['outdoor_bbq', '占道烧烤', 'Street barbecue'],
    ['illegal_parking', '违章停车', 'Illegal parking', 'police'],
    ['bike_disorder', '非机动车乱停放', 'Disorderly bicycle parking'],
    ['crowding', '人员聚集', 'Crowding', 'police', 2],
    ['begging', '街头乞讨', 'Street begging', 'police', 4],
  ]),
  ...cls('emergency', '突发事件', 'Emergencies', 'public_works', 1, [
    ['road_collapse', '路面塌陷', 'Road collapse'],
    ['water_main_burst', '自来水管破裂', 'Burst water main', 'water'],
    ['flooding', '道路积水', 'Flooded road', 'water', 2],
    ['gas_leak', '燃气泄漏', 'Gas leak', 'fire'],
    ['traffic_accident', '交通事故', 'Traffic accident', 'police'],
    ['fallen_tree', '树木倒伏', 'Fallen tree', 'public_works', 2],
  ]),
  ...cls('fire', '火灾/火警', 'Fire', 'fire', 1, [
    ['fire_alarm', '火警', 'Fire alarm'],
    ['suspected_fire', '疑似火情', 'Suspected fire', 'fire', 2],
    ['gas_alarm', '可燃气体报警', 'Combustible gas alarm'],
    ['heat_alarm', '温感报警', 'Heat alarm', 'fire', 2],
    ['blocked_fire_exit', '消防通道堵塞', 'Blocked fire lane', 'fire', 3],
  ]),
  ...cls('facility_fault', '设施故障', 'Facility fault', 'public_works', 3, [
    ['device_offline', '设备离线', 'Device offline'],
    ['device_fault', '设备故障', 'Device fault'],
    ['tamper', '设备被破坏', 'Device tampered with', 'police'],
    ['manhole_tilt', '井盖异常', 'Manhole cover displaced', 'public_works', 2],
    ['streetlight_fault', '路灯故障', 'Street light fault'],
  ]),
  ...cls('environment', '环境监测', 'Environment monitoring', 'environment', 3, [
    ['high_temperature', '温度异常', 'Abnormal temperature', 'fire', 2],
    ['water_level', '水位超限', 'Water level over limit', 'water', 2],
    ['air_quality', '空气质量超标', 'Air quality over limit'],
    ['noise', '噪声超标', 'Noise over limit'],
  ]),
]);

const BY_ID: ReadonlyMap<string, Category> = new Map(CATEGORIES.map((c) => [c.id, c]));

export function categoryById(id: string): Category | undefined {
  return BY_ID.get(id);
}

export function isKnownCategory(id: string): boolean {
  return BY_ID.has(id);
}

/** The class of a category id (`fire.fire_alarm` → `fire`). */
export function classOf(id: string): string {
  const i = id.indexOf('.');
  return i < 0 ? id : id.slice(0, i);
}

/** The default priority of a category, falling back to its class, then to 3. */
export function defaultPriorityOf(id: string): Priority {
  return (BY_ID.get(id) ?? BY_ID.get(classOf(id)))?.priority ?? 3;
}

/**
 * A routing rule: cases whose category id equals or starts with `category` + '.' (a class matches its
 * subcategories), in grids whose code starts with `gridPrefix` (absent = everywhere), go to `department`.
 */
export interface RoutingRule {
  category: string;
  gridPrefix?: string;
  department: string;
}

export type RoutingTable = readonly RoutingRule[];

export const FALLBACK_DEPARTMENT: DepartmentId = 'urban_management';

function categoryMatches(rule: string, id: string): boolean {
  return rule === id || id.startsWith(rule + '.');
}

/**
 * The responsible department for a case of `category` in grid `gridCode` (any level's code; null when
 * outside the grids). The most specific routing rule wins: longest grid prefix first, then the more
 * specific category; without a matching rule, the category's default department (or its class's), then
 * urban management.
 */
export function routeCase(category: string, gridCode: string | null, routingTable: RoutingTable = []): string {
  let best: RoutingRule | null = null;
  let bestScore = -1;
  for (const r of routingTable) {
    if (!categoryMatches(r.category, category)) continue;
    const gp = r.gridPrefix ?? '';
    if (gp !== '' && (gridCode === null || !gridCode.startsWith(gp))) continue;
    const score = gp.length * 1000 + r.category.length;
    if (score > bestScore) {
      best = r;
      bestScore = score;
    }
  }
  if (best) return best.department;
  return (BY_ID.get(category) ?? BY_ID.get(classOf(category)))?.department ?? FALLBACK_DEPARTMENT;
}
