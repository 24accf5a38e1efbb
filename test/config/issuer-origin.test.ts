import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { defaultIssuer, issuerOriginProblem } from '../../src/config/issuer-origin';
import { loadConfig } from '../../src/config/load';
import { start } from '../../src/server';
import { freePort } from '../../scripts/lib/free-port';

/** Issue 14 item 10: the issuer follows PORT outside production, and a foreign issuer is reported. */
describe('default issuer and audience', () => {
  it.each([
    [{ PORT: '4000' }, 'http://localhost:4000'],
    [{ PORT: '4000', HOST: '0.0.0.0' }, 'http://localhost:4000'],
    [{ PORT: '4000', HOST: '::' }, 'http://localhost:4000'],
    [{ PORT: '4000', HOST: '127.0.0.1' }, 'http://127.0.0.1:4000'],
    [{ PORT: '4000', HOST: '::1' }, 'http://[::1]:4000'],
    [{ PORT: '8080', HOST: 'auth.internal' }, 'http://auth.internal:8080'],
    [{ PORT: '80', HOST: 'auth.internal' }, 'http://auth.internal'],
    [{}, 'http://localhost:3000'],
    [{ NODE_ENV: 'test', PORT: '5050' }, 'http://localhost:5050'],
    [{ PORT: '4000', JTS_AUDIENCE: '', JTS_ISSUER: ' ' }, 'http://localhost:4000'],
  ])('outside production, %j gives %s', (env, expected) => {
    const config = loadConfig(env);
    expect(config.jts.issuer).toBe(expected);
    expect(config.jts.audience).toBe(expected);
  });

  it('keeps the variables when set, whatever the port', () => {
    const config = loadConfig({ PORT: '4000', JTS_AUDIENCE: 'https://app.example.com', JTS_ISSUER: 'https://auth.example.com' });
    expect(config.jts).toMatchObject({ audience: 'https://app.example.com', issuer: 'https://auth.example.com' });
    expect(loadConfig({ PORT: '4000', JTS_AUDIENCE: 'https://auth.example.com' }).jts.issuer).toBe('https://auth.example.com');
  });

  it('does not guess in production: the 0.1 default stays and the start-up warning names it', () => {
    expect(defaultIssuer({ host: '0.0.0.0', port: 0 })).toBe('http://localhost:3000');
    const production = { NODE_ENV: 'production', PORT: '4000', REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u@db/x', CORS_ORIGINS: 'none', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' };
    expect(loadConfig(production).jts.issuer).toBe('http://localhost:3000');
  });
});

describe('issuerOriginProblem', () => {
  it.each([
    ['http://localhost:3000', { host: '0.0.0.0', port: 4000 }, /port 3000.*listens on 0\.0\.0\.0:4000/],
    ['http://127.0.0.1:3000', { host: '::', port: 4000 }, /port 3000/],
    ['http://[::1]:3000', { host: '0.0.0.0', port: 4000 }, /port 3000/],
    ['http://app.localhost', { host: '0.0.0.0', port: 4000 }, /port 80\b/],
    ['https://localhost', { host: '0.0.0.0', port: 4000 }, /port 443/],
    ['http://localhost:4000', { host: '192.0.2.10', port: 4000 }, /loopback.*only on 192\.0\.2\.10:4000/],
    ['http://192.0.2.11:4000', { host: '192.0.2.10', port: 4000 }, /does not listen on/],
  ])('reports %s for a server on %j', (issuer, listen, message) => {
    expect(issuerOriginProblem(issuer, listen)).toMatch(message);
  });

  it.each([
    ['http://localhost:4000', { host: '0.0.0.0', port: 4000 }],
    ['http://127.0.0.1:4000', { host: '127.0.0.1', port: 4000 }],
    ['http://localhost:4000', { host: '::1', port: 4000 }],
    ['http://192.0.2.10:4000', { host: '192.0.2.10', port: 4000 }],
    ['http://192.0.2.10:4000', { host: '0.0.0.0', port: 4000 }],
    // A public name may be a proxy in front of any port.
    ['https://auth.example.com', { host: '0.0.0.0', port: 4000 }],
    ['https://auth.example.com', { host: '127.0.0.1', port: 4000 }],
  ])('accepts %s for a server on %j', (issuer, listen) => {
    expect(issuerOriginProblem(issuer, listen)).toBeUndefined();
  });
});

describe('the start-up warning', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jts-issuer-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function startAndLog(env: Record<string, string>): Promise<{ level: number; msg: string; issuer?: string }[]> {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } }));
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      DATA_DIR: 'memory://',
      JTS_DEMO_USERS: 'false',
      BCRYPT_ROUNDS: '4',
      JTS_PRIVATE_KEY_PATH: join(dir, 'key.pem'),
      JTS_PUBLIC_KEY_PATH: join(dir, 'key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(dir, 'secret'),
      ...env,
    });
    const running = await start(config, logger);
    await running.shutdown('test');
    return lines.map((line) => JSON.parse(line) as { level: number; msg: string; issuer?: string });
  }

  it('warns in JSON when the issuer is this machine on another port (any mode, PORT=0 compared with the bound port)', async () => {
    const lines = await startAndLog({ PORT: '0', JTS_ISSUER: 'http://localhost:3000' });
    const warnings = lines.filter((line) => line.msg.startsWith('issuer origin mismatch'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, issuer: 'http://localhost:3000' });
  }, 30_000);

  it('stays quiet when the derived issuer is the origin served', async () => {
    const port = await freePort();
    const lines = await startAndLog({ PORT: String(port) });
    expect(lines.filter((line) => line.msg.startsWith('issuer origin mismatch'))).toEqual([]);
    expect(lines.some((line) => line.msg === 'jts auth server listening')).toBe(true);
  }, 30_000);
});
