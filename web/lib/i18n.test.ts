import { describe, expect, it } from 'vitest';
import { titleIn } from './i18n.svelte.ts';

describe('case titles in one language (issue 13)', () => {
  it('keeps one language of the bilingual titles the rules write', () => {
    expect(titleIn('人员聚集 Crowding · cam-e-0001', 'zh')).toBe('人员聚集 · cam-e-0001');
    expect(titleIn('人员聚集 Crowding · cam-e-0001', 'en')).toBe('Crowding · cam-e-0001');
    expect(titleIn('迟报 Late report · 人员聚集 Crowding · cam-1', 'zh')).toBe('迟报 · 人员聚集 · cam-1');
    expect(titleIn('设备离线 smk-1 offline (no message for 3 × 60 s)', 'zh')).toBe('设备离线 smk-1');
    expect(titleIn('设备离线 smk-1 offline (no message for 3 × 60 s)', 'en')).toBe(
      'smk-1 offline (no message for 3 × 60 s)',
    );
    // A person's title is left as typed.
    expect(titleIn('小区门口垃圾桶满溢 overflow', 'zh')).toBe('小区门口垃圾桶满溢 overflow');
  });
});
