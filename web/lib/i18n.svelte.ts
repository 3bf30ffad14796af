/**
 * The wall speaks Simplified Chinese by default, English as a switch. Domain terms keep their Chinese
 * names (see docs/GLOSSARY.md). The choice is remembered in localStorage.
 */
import { CATEGORIES, categoryById, classOf, DEPARTMENTS } from '../../core/cases/categories.ts';

export type Lang = 'zh' | 'en';

const DICT = {
  title: { zh: '一网统管 · 城市运行指挥中心', en: 'OneGrid · City Operations Command' },
  login: { zh: '登录', en: 'Sign in' },
  logout: { zh: '退出', en: 'Sign out' },
  username: { zh: '用户名', en: 'Username' },
  password: { zh: '密码', en: 'Password' },
  loginFailed: { zh: '用户名或密码错误', en: 'Wrong username or password' },
  district: { zh: '区', en: 'District' },
  street: { zh: '街道', en: 'Street' },
  community: { zh: '社区', en: 'Community' },
  grid: { zh: '网格', en: 'Base grid' },
  simulated: { zh: '模拟数据', en: 'SIMULATED' },
  simulatedHint: { zh: '模拟设备正在运行，数据非真实', en: 'The simulated fleet is running: not real data' },
  sample: { zh: '样例数据', en: 'Sample data' },
  grids: { zh: '网格', en: 'Grids' },
  devices: { zh: '设备', en: 'Devices' },
  cases: { zh: '案件', en: 'Cases' },
  video: { zh: '视频', en: 'Video' },
  wall: { zh: '态势', en: 'Wall' },
  loading: { zh: '加载中…', en: 'Loading…' },
  language: { zh: 'English', en: '中文' },
  languageName: { zh: '切换到英文', en: 'Switch to Chinese' },
  // indicators
  indicators: { zh: '运行指标', en: 'Indicators' },
  casesToday: { zh: '今日案件', en: 'Cases today' },
  openCases: { zh: '在办案件', en: 'Open cases' },
  closeRate: { zh: '结案率', en: 'Close rate' },
  onTimeCloseRate: { zh: '按期结案率', en: 'On-time close rate' },
  satisfactionRate: { zh: '满意率', en: 'Satisfaction' },
  overdue: { zh: '超期', en: 'Overdue' },
  devicesOnline: { zh: '设备在线', en: 'Devices online' },
  bySource: { zh: '案件来源', en: 'Cases by source' },
  byCategory: { zh: '案件类别', en: 'Cases by category' },
  liveFeed: { zh: '实时案件', en: 'Live cases' },
  whistleBoard: { zh: '吹哨报到', en: 'Whistle board' },
  noWhistles: { zh: '暂无待报到部门', en: 'No department owes a report' },
  noCases: { zh: '暂无案件', en: 'No cases' },
  noData: { zh: '暂无数据', en: 'No data' },
  unavailable: { zh: '接口未就绪', en: 'Not available yet' },
  dueIn: { zh: '剩余', en: 'due in' },
  lateBy: { zh: '已超', en: 'late by' },
  // live
  liveOpen: { zh: '实时连接正常', en: 'Live' },
  liveConnecting: { zh: '正在连接…', en: 'Connecting…' },
  liveClosed: { zh: '实时连接中断，重连中', en: 'Live link down, reconnecting' },
  // feed events
  ev_created: { zh: '新案件', en: 'New' },
  ev_updated: { zh: '更新', en: 'Updated' },
  ev_escalated: { zh: '升级', en: 'Escalated' },
  ev_overdue: { zh: '超期', en: 'Overdue' },
  ev_whistled: { zh: '吹哨', en: 'Whistled' },
  ev_closed: { zh: '结案', en: 'Closed' },
  ev_open: { zh: '在办', en: 'Open' },
  // map
  map: { zh: '区域态势图', en: 'District map' },
  breadcrumbs: { zh: '层级', en: 'Level' },
  back: { zh: '返回上级', en: 'Up one level' },
  children: { zh: '下级区域', en: 'Sub-areas' },
  layers: { zh: '图层', en: 'Layers' },
  layerHeat: { zh: '24小时事件热力', en: 'Events, last 24 h' },
  layerDevices: { zh: '感知设备', en: 'Devices' },
  layerCases: { zh: '案件', en: 'Cases' },
  layerPatrols: { zh: '网格员巡查', en: 'Patrols' },
  legendOpen: { zh: '柱高＝在办案件数', en: 'Height = open cases' },
  legendAlarm: { zh: '报警', en: 'Alarm' },
  legendOverdue: { zh: '超期', en: 'Overdue' },
  legendOnline: { zh: '在线', en: 'Online' },
  legendOffline: { zh: '离线', en: 'Offline' },
  // cases
  caseCode: { zh: '案件编号', en: 'Case number' },
  caseTitle: { zh: '标题', en: 'Title' },
  category: { zh: '类别', en: 'Category' },
  state: { zh: '状态', en: 'State' },
  priority: { zh: '优先级', en: 'Priority' },
  level: { zh: '层级', en: 'Level' },
  source: { zh: '来源', en: 'Source' },
  deadline: { zh: '处置时限', en: 'Deadline' },
  location: { zh: '位置', en: 'Location' },
  created: { zh: '受理时间', en: 'Received' },
  updated: { zh: '更新时间', en: 'Updated' },
  assignee: { zh: '承办', en: 'Assigned to' },
  trail: { zh: '全程留痕', en: 'Trail' },
  verified: { zh: '留痕校验通过', en: 'Trail verified' },
  notVerified: { zh: '留痕校验失败', en: 'Trail NOT verified' },
  linkedCameras: { zh: '关联摄像机', en: 'Linked cameras' },
  openVideo: { zh: '查看视频', en: 'Open video' },
  linkedEvents: { zh: '关联事件', en: 'Linked events' },
  events: { zh: '次', en: 'events' },
  actions: { zh: '操作', en: 'Actions' },
  noActions: { zh: '无可执行操作', en: 'No action allowed' },
  submit: { zh: '提交', en: 'Submit' },
  cancel: { zh: '取消', en: 'Cancel' },
  close: { zh: '关闭', en: 'Close' },
  note: { zh: '备注', en: 'Note' },
  notePublic: { zh: '对市民公开', en: 'Visible to the citizen' },
  notePublicBadge: { zh: '已对市民公开', en: 'shown to the citizen' },
  citizenContact: { zh: '报告人联系方式', en: 'Reporter contact' },
  contactName: { zh: '姓名', en: 'Name' },
  contactPhone: { zh: '电话', en: 'Phone' },
  contactEmail: { zh: '邮箱', en: 'Email' },
  reveal: { zh: '显示', en: 'Show' },
  revealAudited: {
    zh: '显示完整联系方式将记入安全审计。',
    en: 'Showing the full contact is recorded in the security audit log.',
  },
  reason: { zh: '原因', en: 'Reason' },
  result: { zh: '处置结果', en: 'Result' },
  departmentsField: { zh: '部门', en: 'Departments' },
  department: { zh: '部门', en: 'Department' },
  satisfaction: { zh: '满意度（1–5）', en: 'Satisfaction (1–5)' },
  pass: { zh: '核查通过', en: 'Passes' },
  newDeadline: { zh: '新时限', en: 'New deadline' },
  mergeInto: { zh: '并入案件ID', en: 'Merge into case id' },
  dispatchTo: { zh: '派遣至部门', en: 'Dispatch to department' },
  staleVersion: { zh: '案件已被他人更新，已刷新：', en: 'Someone else changed this case; refreshed:' },
  actionDone: { zh: '操作成功', en: 'Done' },
  actionFailed: { zh: '操作失败', en: 'Failed' },
  filter: { zh: '筛选', en: 'Filter' },
  all: { zh: '全部', en: 'All' },
  search: { zh: '搜索', en: 'Search' },
  more: { zh: '加载更多', en: 'Load more' },
  casesUnavailable: { zh: '案件接口尚未上线', en: 'The cases API is not available yet' },
  openDrawer: { zh: '查看详情', en: 'Details' },
  // devices
  kind: { zh: '类型', en: 'Kind' },
  status: { zh: '状态', en: 'Status' },
  online: { zh: '在线', en: 'Online' },
  offline: { zh: '离线', en: 'Offline' },
  lastSeen: { zh: '最后上报', en: 'Last seen' },
  liveness: { zh: '在线判定', en: 'Liveness' },
  livenessNone: { zh: '不要求心跳（仅事件上报）', en: 'none expected (reports on events only)' },
  livenessGateway: { zh: '随所属网关', en: 'by its gateway' },
  livenessKind: { zh: '按设备类型默认', en: 'kind default' },
  livenessDevice: { zh: '设备登记值', en: 'set at registration' },
  clockSkew: { zh: '时钟偏差', en: 'Clock skew' },
  clockSkewAhead: { zh: '快', en: 'ahead' },
  clockSkewBehind: { zh: '慢', en: 'behind' },
  nvrHealth: { zh: '录像机状态', en: 'NVR health' },
  nvrDetectors: { zh: '检测器推理', en: 'Detector speed' },
  nvrCameras: { zh: '摄像机帧率', en: 'Camera fps' },
  metric: { zh: '指标', en: 'Metric' },
  range: { zh: '时间范围', en: 'Range' },
  readings: { zh: '读数曲线', en: 'Readings' },
  name: { zh: '名称', en: 'Name' },
  gateway: { zh: '网关', en: 'Gateway' },
  selectDevice: { zh: '选择一个设备查看读数', en: 'Select a device to see its readings' },
  shown: { zh: '显示', en: 'shown' },
  of: { zh: '共', en: 'of' },
  simulatedShort: { zh: '模拟', en: 'SIM' },
  // workbench: forms
  choose: { zh: '请选择', en: 'Choose' },
  dispatchTarget: { zh: '派遣至', en: 'Dispatch to' },
  suggested: { zh: '建议', en: 'suggested' },
  gridWorkers: { zh: '本网格网格员', en: 'Grid workers of this grid' },
  departments: { zh: '职能部门', en: 'Departments' },
  slaDeadline: { zh: '处置时限（按时限标准）', en: 'Deadline (from the SLA)' },
  verifyResult: { zh: '核查结论', en: 'Verification' },
  verifyPass: { zh: '通过，结案', en: 'Passes: close' },
  verifyFail: { zh: '不通过，返工', en: 'Fails: rework' },
  photos: { zh: '现场照片', en: 'Photos' },
  attachments: { zh: '附件（照片）', en: 'Attachments (photos)' },
  uploading: { zh: '上传中…', en: 'Uploading…' },
  uploadFailed: { zh: '照片上传失败', en: 'Photo upload failed' },
  // workbench: intake
  intake: { zh: '接件', en: 'New case' },
  intakeTitle: { zh: '接件登记', en: 'Take in a case' },
  description: { zh: '描述', en: 'Description' },
  categorySearch: { zh: '类别（可搜索）', en: 'Category (type to search)' },
  placeSearch: { zh: '搜索网格、社区或设备', en: 'Search a grid, community or device' },
  pickOnMap: { zh: '或在地图上点击位置', en: 'or click the location on the map' },
  noLocation: { zh: '尚未选择位置', en: 'No location chosen yet' },
  outsideGrids: { zh: '该位置不在任何网格内', en: 'This location lies outside every grid' },
  callerName: { zh: '来电人姓名', en: 'Caller name' },
  callerPhone: { zh: '来电号码', en: 'Caller phone' },
  show: { zh: '显示', en: 'Show' },
  hide: { zh: '隐藏', en: 'Hide' },
  created_ok: { zh: '已接件', en: 'Case taken in' },
  byCategoryDefault: { zh: '按类别默认', en: 'Default for the category' },
  // workbench: drawer facts
  handling: { zh: '处置情况', en: 'Handling' },
  handledBy: { zh: '处置人', en: 'Handled by' },
  handledAt: { zh: '反馈时间', en: 'Handled at' },
  evidence: { zh: '证据照片', en: 'Evidence' },
  supervision: { zh: '督办', en: 'Supervision' },
  supervised: { zh: '已督办', en: 'Supervised' },
  notSupervised: { zh: '未督办', en: 'Not supervised' },
  times: { zh: '次', en: 'times' },
  reworkCount: { zh: '返工次数', en: 'Rework count' },
  whistles: { zh: '吹哨部门', en: 'Whistled departments' },
  reported: { zh: '已报到', en: 'Reported' },
  notReported: { zh: '未报到', en: 'Not reported' },
  reportBy: { zh: '报到时限', en: 'Report by' },
  satisfactionShort: { zh: '满意度', en: 'Satisfaction' },
  // wall: counts and the grid profile
  dueShort: { zh: '应结', en: 'due' },
  closedShort: { zh: '已结', en: 'closed' },
  evaluatedShort: { zh: '已评', en: 'evaluated' },
  onTimeShort: { zh: '按期', en: 'on time' },
  openShort: { zh: '在办', en: 'open' },
  gridProfile: { zh: '网格概况', en: 'Grid profile' },
  gridWorker: { zh: '网格员', en: 'Grid worker' },
  noGridWorker: { zh: '未配备', en: 'None assigned' },
  devicesByKind: { zh: '感知设备', en: 'Devices' },
  lastPatrol: { zh: '最近巡查', en: 'Last patrol' },
  noPatrol: { zh: '暂无巡查记录', en: 'No patrol yet' },
  intakeLink: { zh: '接件', en: 'New case' },
  gridStudio: { zh: '网格划分', en: 'Grid studio' },
  downloadCsv: { zh: '下载原始读数 (CSV)', en: 'Download raw readings (CSV)' },
  noMetrics: { zh: '该设备尚无读数', en: 'This device has sent no readings yet' },
  // video
  videoWall: { zh: '视频墙', en: 'Video wall' },
  layout: { zh: '画面布局', en: 'Layout' },
  layout1: { zh: '单画面', en: 'Single view' },
  layout4: { zh: '四画面', en: '2 × 2' },
  layout9: { zh: '九画面', en: '3 × 3' },
  layout16: { zh: '十六画面', en: '4 × 4' },
  loadingCameras: { zh: '加载摄像头…', en: 'Loading cameras…' },
  camerasUnavailable: { zh: '摄像头列表不可用，请输入摄像头编号', en: 'Camera list unavailable: type a camera id' },
  backToWall: { zh: '返回态势', en: 'Back to the wall' },
  emptyTile: { zh: '空闲画面', en: 'Empty tile' },
  chooseCamera: { zh: '选择摄像头', en: 'Choose camera' },
  none: { zh: '— 无 —', en: '— none —' },
  cameraId: { zh: '摄像头编号', en: 'Camera id' },
  closeTile: { zh: '关闭画面', en: 'Close tile' },
  tile_connecting: { zh: '连接中', en: 'Connecting' },
  tile_starting: { zh: '启动中', en: 'Starting' },
  tile_live: { zh: '实时', en: 'Live' },
  tile_failed: { zh: '故障', en: 'Failed' },
  tile_reconnecting: { zh: '重连中', en: 'Reconnecting' },
  tile_closed: { zh: '已关闭', en: 'Closed' },
  ffmpegMissing: {
    zh: '服务器未安装 ffmpeg，无法播放视频。安装：sudo apt-get install ffmpeg，然后刷新',
    en: 'ffmpeg is not installed on the server, so video cannot play. Install it: sudo apt-get install ffmpeg, then reload',
  },
} as const;

export type Key = keyof typeof DICT;

const STATES: Record<string, [string, string]> = {
  reported: ['接件', 'Reported'],
  registered: ['立案', 'Registered'],
  dispatched: ['派遣', 'Dispatched'],
  in_progress: ['处置中', 'In progress'],
  handled: ['处理反馈', 'Handled'],
  closed: ['结案', 'Closed'],
  rejected: ['不予立案', 'Rejected'],
  merged: ['并案', 'Merged'],
};
const ACTIONS: Record<string, [string, string]> = {
  intake: ['受理', 'Intake'],
  register: ['立案', 'Register'],
  reject: ['不予立案', 'Reject'],
  merge: ['并案', 'Merge'],
  dispatch: ['派遣', 'Dispatch'],
  claim: ['签收', 'Claim'],
  return: ['退回', 'Return'],
  escalate: ['升级', 'Escalate'],
  whistle: ['吹哨', 'Whistle'],
  report: ['报到', 'Report'],
  supervise: ['督办', 'Supervise'],
  extend: ['延期', 'Extend'],
  handle: ['处理反馈', 'Handle'],
  verify: ['核查', 'Verify'],
  evaluate: ['评价', 'Evaluate'],
  comment: ['备注', 'Comment'],
  // Trail entries written by the platform, not offered as buttons.
  add_events: ['事件追加', 'Events added'],
  raise_priority: ['提升优先级', 'Priority raised'],
  condition_cleared: ['告警解除', 'Condition cleared'],
  merge_in: ['并入案件', 'Case merged in'],
};
/** Metric names as the fleet reports them (ingest/demo/simulator.ts, core/rules defaults). */
const METRICS: Record<string, [string, string]> = {
  temp_c: ['温度', 'Temperature'],
  battery_pct: ['电量', 'Battery'],
  smoke_obscuration: ['烟雾遮光度', 'Smoke obscuration'],
  gas_lel_pct: ['可燃气体浓度', 'Combustible gas'],
  ch4_lel: ['甲烷浓度', 'Methane'],
  co_ppm: ['一氧化碳', 'Carbon monoxide'],
  water_level_m: ['水位', 'Water level'],
  level_m: ['水位', 'Water level'],
  tilt_deg: ['倾角', 'Tilt'],
  fps: ['帧率', 'Frame rate'],
  bitrate_kbps: ['码率', 'Bit rate'],
  uptime_s: ['运行时长', 'Uptime'],
  cpu_pct: ['CPU 占用', 'CPU'],
  value: ['数值', 'Value'],
};
/** A metric's unit from its name's suffix (the fleet's convention: temp_c, co_ppm, water_level_m …). */
export function unitOf(metric: string): string {
  if (/lel_pct$|_lel$/.test(metric)) return '%LEL';
  if (metric === 'smoke_obscuration') return '%/m';
  if (metric === 'fps') return 'fps';
  const m = /_(c|pct|ppm|m|deg|kbps|s|mm|kpa|v)$/.exec(metric);
  return m
    ? { c: '°C', pct: '%', ppm: 'ppm', m: 'm', deg: '°', kbps: 'kbit/s', s: 's', mm: 'mm', kpa: 'kPa', v: 'V' }[m[1]]!
    : '';
}
const ROLES: Record<string, [string, string]> = {
  admin: ['管理员', 'Administrator'],
  analyst: ['网格分析员', 'Grid analyst'],
  commander: ['指挥长', 'Commander'],
  dispatcher: ['派遣员', 'Dispatcher'],
  department: ['职能部门', 'Department'],
  gridworker: ['网格员', 'Grid worker'],
  viewer: ['观察员', 'Viewer'],
  system: ['平台', 'Platform'],
};
const SOURCES: Record<string, [string, string]> = {
  hotline: ['热线', 'Hotline'],
  patrol: ['网格巡查', 'Patrol'],
  citizen: ['市民上报', 'Citizen'],
  superior: ['上级交办', 'Superior'],
  sensor: ['物联感知', 'Sensor'],
  camera: ['视频识别', 'Camera AI'],
};
const LEVELS: Record<string, [string, string]> = {
  community: ['社区', 'Community'],
  street: ['街道', 'Street'],
  district: ['区', 'District'],
};
const KINDS: Record<string, [string, string]> = {
  camera: ['摄像机', 'Camera'],
  smoke: ['烟感', 'Smoke detector'],
  heat: ['温感', 'Heat detector'],
  gas: ['燃气', 'Gas detector'],
  water_level: ['水位', 'Water level'],
  manhole: ['井盖', 'Manhole'],
  sensor: ['传感器', 'Sensor'],
  gateway: ['网关', 'Gateway'],
};
const PRIORITIES: Record<string, [string, string]> = {
  '1': ['特急', 'P1 urgent'],
  '2': ['紧急', 'P2 high'],
  '3': ['一般', 'P3 normal'],
  '4': ['低', 'P4 low'],
};

/**
 * Case titles the rules write in both languages (core/rules/engine.ts: `${zh} ${en} · device`, `迟报 Late
 * report · …`, `设备离线 id offline (…)`), shown in one language. Longest names first, so that a category
 * whose name contains another's is replaced whole.
 */
const BILINGUAL: [string, string, string][] = [
  ...CATEGORIES.map((c): [string, string, string] => [`${c.zh} ${c.en}`, c.zh, c.en]),
  ['迟报 Late report', '迟报', 'Late report'] as [string, string, string],
].sort((a, b) => b[0].length - a[0].length);

export function titleIn(title: string, lang: Lang): string {
  const off = /^设备离线 (\S+) offline \((.*)\)$/.exec(title);
  if (off) return lang === 'zh' ? `设备离线 ${off[1]}` : `${off[1]} offline (${off[2]})`;
  let t = title;
  for (const [both, zh, en] of BILINGUAL) if (t.includes(both)) t = t.split(both).join(lang === 'zh' ? zh : en);
  return t;
}

function pick(table: Record<string, [string, string]>, id: string, lang: Lang): string {
  const e = table[id];
  return e ? e[lang === 'zh' ? 0 : 1] : id;
}

class I18n {
  lang = $state<Lang>('zh');
  constructor() {
    if (typeof localStorage !== 'undefined') {
      const saved = localStorage.getItem('og.lang');
      if (saved === 'en' || saved === 'zh') this.lang = saved;
    }
    if (typeof document !== 'undefined') document.documentElement.lang = this.lang === 'zh' ? 'zh-CN' : 'en';
  }
  t = (key: Key): string => DICT[key][this.lang];
  state = (s: string) => pick(STATES, s, this.lang);
  action = (a: string) => pick(ACTIONS, a, this.lang);
  source = (s: string) => pick(SOURCES, s, this.lang);
  level = (l: string) => pick(LEVELS, l, this.lang);
  kind = (k: string) => pick(KINDS, k, this.lang);
  role = (r: string) => pick(ROLES, r, this.lang);
  /** A metric by name with its unit: `温度 (°C)`; unknown names as they are. */
  metric = (m: string) => {
    const u = unitOf(m);
    return `${pick(METRICS, m, this.lang)}${u ? ` (${u})` : ''}`;
  };
  /** A number in the current locale's format (zh-CN: 1,234.5). */
  num = (n: number, digits = 2) => n.toLocaleString(this.locale(), { maximumFractionDigits: digits });
  /** A case title in the current language where the rules wrote it in both (titleIn). */
  title = (t: string) => titleIn(t, this.lang);
  priority = (p: number | string) => pick(PRIORITIES, String(p), this.lang);
  /** A category id (`fire.fire_alarm`) or class id (`fire`) by name. */
  category = (id: string) => {
    const c = categoryById(id) ?? categoryById(classOf(id));
    return c ? c[this.lang] : id;
  };
  department = (id: string) => {
    const d = (DEPARTMENTS as Record<string, { zh: string; en: string }>)[id];
    return d ? d[this.lang] : id;
  };
  locale = () => (this.lang === 'zh' ? 'zh-CN' : 'en-GB');
  time = (t: number | string | null | undefined) =>
    t === null || t === undefined || t === ''
      ? '—'
      : new Date(t).toLocaleString(this.locale(), {
          hour12: false,
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        });
  toggle = () => {
    this.lang = this.lang === 'zh' ? 'en' : 'zh';
    if (typeof localStorage !== 'undefined') localStorage.setItem('og.lang', this.lang);
    if (typeof document !== 'undefined') document.documentElement.lang = this.lang === 'zh' ? 'zh-CN' : 'en';
  };
}

export const i18n = new I18n();
