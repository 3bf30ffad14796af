/** Chinese names of the synthetic sample district. None of them is meant to name a real place. */

export const DISTRICT_CODE = '120106';
export const DISTRICT_NAME = '示范区（样例数据）';

/** Ten street (街道) names, given out in code order 001..010. */
export const STREET_NAMES = [
  '东风街道',
  '新华街道',
  '胜利街道',
  '和平街道',
  '建设街道',
  '向阳街道',
  '光明街道',
  '长青街道',
  '友谊街道',
  '振兴街道',
] as const;

/** Stems and suffixes from which the community (社区) names are drawn: 36 × 6 = 216 ≥ 123 distinct names. */
export const COMMUNITY_STEMS = [
  '春华',
  '秋实',
  '翠园',
  '锦绣',
  '兴盛',
  '康宁',
  '安居',
  '瑞丰',
  '嘉禾',
  '华苑',
  '朝晖',
  '紫荆',
  '桃源',
  '丽水',
  '金桥',
  '银河',
  '海棠',
  '丁香',
  '梧桐',
  '松柏',
  '文昌',
  '育才',
  '明德',
  '荣华',
  '富民',
  '福安',
  '永安',
  '泰和',
  '景福',
  '润泽',
  '天宝',
  '广源',
  '宏达',
  '博雅',
  '怡景',
  '凤鸣',
] as const;
export const COMMUNITY_SUFFIXES = ['里', '园', '苑', '庄', '新村', '花园'] as const;
