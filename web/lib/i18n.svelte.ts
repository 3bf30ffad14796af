/**
 * The wall speaks Simplified Chinese by default, English as a switch. Domain terms keep their Chinese
 * names (see docs/GLOSSARY.md). The choice is remembered in localStorage.
 */
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
  sample: { zh: '样例数据', en: 'Sample data' },
  grids: { zh: '网格', en: 'Grids' },
  devices: { zh: '设备', en: 'Devices' },
  cases: { zh: '案件', en: 'Cases' },
  video: { zh: '视频', en: 'Video' },
  wall: { zh: '态势', en: 'Wall' },
  loading: { zh: '加载中…', en: 'Loading…' },
  language: { zh: 'English', en: '中文' },
} as const;

export type Key = keyof typeof DICT;

class I18n {
  lang = $state<Lang>('zh');
  constructor() {
    if (typeof localStorage !== 'undefined') {
      const saved = localStorage.getItem('og.lang');
      if (saved === 'en' || saved === 'zh') this.lang = saved;
    }
  }
  t = (key: Key): string => DICT[key][this.lang];
  toggle = () => {
    this.lang = this.lang === 'zh' ? 'en' : 'zh';
    if (typeof localStorage !== 'undefined') localStorage.setItem('og.lang', this.lang);
    if (typeof document !== 'undefined') document.documentElement.lang = this.lang === 'zh' ? 'zh-CN' : 'en';
  };
}

export const i18n = new I18n();
