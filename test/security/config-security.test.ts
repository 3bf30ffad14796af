/** The security settings stop start-up with a message naming them when they are bad (ingest/config.ts). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../ingest/config.ts';

describe('security settings', () => {
  it('METRICS_TOKEN: at least 16 characters without spaces; unset = admin sessions only', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'abcdefghijklmnop' }).metricsToken).toBe('abcdefghijklmnop');
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_TOKEN: 'with a space in it ok' })).toThrow(/METRICS_TOKEN/);
  });

  it('WS_ALLOWED_ORIGINS: full origins only', () => {
    expect(loadConfig({}).wsAllowedOrigins).toEqual([]);
    expect(loadConfig({ WS_ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080' }).wsAllowedOrigins).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
    for (const bad of ['a.example', 'https://a.example/path', 'ftp://a.example', '*'])
      expect(() => loadConfig({ WS_ALLOWED_ORIGINS: bad }), bad).toThrow(/WS_ALLOWED_ORIGINS/);
  });
});
