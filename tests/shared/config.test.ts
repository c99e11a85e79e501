// Configuration: defaults, derived values and readable errors.
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  test('when nothing is set, then it runs the embedded engine in demo mode on port 3000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ uri: null, dataDir: './data' });
    expect(config.demo.enabled).toBe(true);
    expect(config.demo.password).toBe('demo-password');
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.cookies.secure).toBe(false);
  });

  test('when PUBLIC_BASE_URL is https, then cookies are secure and the trailing slash is dropped', () => {
    const config = loadConfig({ PUBLIC_BASE_URL: 'https://thuocdo.hanoi.gov.vn/' });
    expect(config.publicBaseUrl).toBe('https://thuocdo.hanoi.gov.vn');
    expect(config.cookies.secure).toBe(true);
  });

  test('when MONGODB_URI is set without DEMO, then demo mode is off', () => {
    const config = loadConfig({ MONGODB_URI: 'mongodb://db.example:27017/thuocdo', APP_SECRET: 'x'.repeat(32) });
    expect(config.demo.enabled).toBe(false);
    expect(config.database.uri).toBe('mongodb://db.example:27017/thuocdo');
  });

  test('when MONGODB_URI is set with DEMO=true, then demo mode is on', () => {
    const config = loadConfig({ MONGODB_URI: 'mongodb://db.example/x', APP_SECRET: 'x'.repeat(32), DEMO: 'true' });
    expect(config.demo.enabled).toBe(true);
  });

  test('when several settings are wrong, then the error lists each of them', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'abc', MONGODB_URI: 'postgres://x', LOG_LEVEL: 'loud', DEMO_PASSWORD: 'short' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT:/m);
    expect(problems).toMatch(/^MONGODB_URI: must start with mongodb/m);
    expect(problems).toMatch(/^LOG_LEVEL:/m);
    expect(problems).toMatch(/^DEMO_PASSWORD: must be at least 8 characters/m);
    expect((caught as ConfigError).message).toContain('Invalid configuration:');
  });

  test('when MONGODB_URI is set without APP_SECRET, then it refuses to start', () => {
    expect(() => loadConfig({ MONGODB_URI: 'mongodb://db.example/x' })).toThrow(/APP_SECRET: is required with MONGODB_URI/);
  });

  test('when an empty variable is set, then its default applies', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });

  test('the configuration is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
  });
});
