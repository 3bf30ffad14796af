/** Sample departments, event categories and users of the synthetic district. */
import type { Department, SampleUser } from './types.ts';
import { DISTRICT_CODE } from './names.ts';

/**
 * Event categories (coarse ids). Every category belongs to exactly one department below; sensor-raised
 * cases use fire (fire_alarm, smoke_alarm, heat_alarm), gas (gas_alarm), facility (manhole_tilt) and
 * water (water_level).
 */
export const CATEGORIES = [
  { id: 'fire', name: '火灾', nameEn: 'Fire' },
  { id: 'emergency', name: '应急救援', nameEn: 'Emergency rescue' },
  { id: 'city_appearance', name: '市容环境', nameEn: 'City appearance' },
  { id: 'street_order', name: '街面秩序', nameEn: 'Street order' },
  { id: 'public_security', name: '治安', nameEn: 'Public security' },
  { id: 'traffic', name: '交通秩序', nameEn: 'Traffic' },
  { id: 'facility', name: '市政设施', nameEn: 'Public facilities' },
  { id: 'road', name: '道路', nameEn: 'Roads' },
  { id: 'environment', name: '生态环境', nameEn: 'Environment' },
  { id: 'construction', name: '施工管理', nameEn: 'Construction sites' },
  { id: 'gas', name: '燃气安全', nameEn: 'Gas safety' },
  { id: 'water', name: '积水内涝', nameEn: 'Flooding and drainage' },
] as const;

export type CategoryId = (typeof CATEGORIES)[number]['id'];

export const DEPARTMENTS: Department[] = [
  { id: 'fire', name: '消防救援', nameEn: 'Fire and Rescue', categories: ['fire', 'emergency'] },
  {
    id: 'urban',
    name: '城市管理（城管）',
    nameEn: 'Urban Management',
    categories: ['city_appearance', 'street_order'],
  },
  { id: 'police', name: '公安', nameEn: 'Public Security', categories: ['public_security', 'traffic'] },
  { id: 'public_works', name: '市政', nameEn: 'Municipal Public Works', categories: ['facility', 'road'] },
  { id: 'environment', name: '生态环境', nameEn: 'Ecology and Environment', categories: ['environment'] },
  {
    id: 'housing',
    name: '住房和城乡建设',
    nameEn: 'Housing and Urban-Rural Development',
    categories: ['construction', 'gas'],
  },
  { id: 'water', name: '水务', nameEn: 'Water Affairs', categories: ['water'] },
];

/**
 * One or more users of every role (no passwords: the platform sets them). `gridCodes` are the base grids
 * that the grid workers are scoped to: the first grid of the first four communities in code order.
 */
export function sampleUsers(gridCodes: string[]): SampleUser[] {
  const d = DISTRICT_CODE;
  const users: SampleUser[] = [
    {
      username: 'commander-district',
      role: 'commander',
      name: '赵建国',
      scope: { grid: d, department: null },
      level: 'district',
    },
    {
      username: 'commander-street-001',
      role: 'commander',
      name: '钱立新',
      scope: { grid: `${d}001`, department: null },
      level: 'street',
    },
    {
      username: 'commander-community-001001',
      role: 'commander',
      name: '孙慧敏',
      scope: { grid: `${d}001001`, department: null },
      level: 'community',
    },
    { username: 'dispatcher', role: 'dispatcher', name: '李晓东', scope: { grid: d, department: null } },
  ];
  const handlerNames = ['周振华', '吴海燕', '郑国强', '王丽华', '冯志明', '陈秀英', '褚永红'];
  DEPARTMENTS.forEach((dep, k) => {
    users.push({
      username: `dept-${dep.id.replace('_', '-')}`,
      role: 'department',
      name: handlerNames[k],
      scope: { grid: null, department: dep.id },
    });
  });
  const workerNames = ['卫小军', '蒋春梅', '沈建平', '韩桂芳'];
  gridCodes.slice(0, workerNames.length).forEach((code, k) => {
    users.push({
      username: `gridworker-${String(k + 1).padStart(2, '0')}`,
      role: 'gridworker',
      name: workerNames[k],
      scope: { grid: code, department: null },
    });
  });
  users.push({ username: 'analyst', role: 'analyst', name: '杨文博', scope: { grid: d, department: null } });
  users.push({ username: 'viewer', role: 'viewer', name: '朱丽娟', scope: { grid: d, department: null } });
  return users;
}
