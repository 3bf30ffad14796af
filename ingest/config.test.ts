import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from './config.ts';

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      mqttPort: 1883,
      mqttUrl: null,
      databaseUrl: null,
      dataDir: './data',
      adminPassword: null,
      logLevel: 'info',
      sessionRecheckS: 30,
      sessionCacheS: 60,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      MQTT_PORT: '0',
      MQTT_URL: 'mqtts://broker:8883',
      DATABASE_URL: 'postgres://u:p@db/x',
      DATA_DIR: '/var/lib/onegrid',
      ADMIN_PASSWORD: 'long-enough',
      DEMO: '1',
      LOG_LEVEL: 'DEBUG',
      SESSION_RECHECK_S: '2',
      SESSION_CACHE_S: '0',
    });
    expect(c).toMatchObject({
      port: 8080,
      mqttPort: 0,
      mqttUrl: 'mqtts://broker:8883',
      databaseUrl: 'postgres://u:p@db/x',
      dataDir: '/var/lib/onegrid',
      adminPassword: 'long-enough',
      demo: true,
      logLevel: 'debug',
      sessionRecheckS: 2,
      sessionCacheS: 0,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MQTT_PORT', '-1'],
    ['MQTT_URL', 'http://x'],
    ['MQTT_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['DEMO', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_PASSWORD', 'short'],
    ['SESSION_RECHECK_S', '0'],
    ['SESSION_RECHECK_S', '1.5'],
    ['SESSION_CACHE_S', '3601'],
    ['SESSION_CACHE_S', 'soon'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });
});
