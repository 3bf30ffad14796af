/** Sample departments and users of the synthetic district. */
import type { Department, SampleUser } from './types.ts';
import { DISTRICT_CODE } from './names.ts';
import { CATEGORIES as CORE_CATEGORIES, DEPARTMENTS as CORE_DEPARTMENTS, type DepartmentId } from '../core/index.ts';

/**
 * The sample departments are core's (one source for ids and routing, core/cases/categories.ts): each owns
 * the event classes whose default department it is.
 */
export const DEPARTMENTS: Department[] = (Object.keys(CORE_DEPARTMENTS) as DepartmentId[]).map((id) => ({
  id,
  name: CORE_DEPARTMENTS[id].zh,
  nameEn: CORE_DEPARTMENTS[id].en,
  categories: CORE_CATEGORIES.filter((c) => c.parent === null && c.department === id).map((c) => c.id),
}));

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
