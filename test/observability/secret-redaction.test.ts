import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { freePort } from '../../scripts/lib/free-port';
import { loadConfig } from '../../src/config/load';
import { redactRedisError } from '../../src/config/redact';
import { createLogger } from '../../src/observability/logger';
import { start } from '../../src/server';

/** A logger whose JSON lines land in `lines`, through the same createLogger the server uses. */
function capturedLogger(level = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  return { logger: createLogger({ level, pretty: false, destination }), lines };
}

describe('no password reaches a log line (issue 14, item 8)', () => {
  it('logs a Redis URL with a password that cannot connect (closed port) without the password', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'jts-redact-'));
    const { logger, lines } = capturedLogger();
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: `redis://default:S3cret-Pa55@127.0.0.1:${port}/0`,
      JTS_DEMO_USERS: 'false',
      JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
      JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
      METRICS_TOKEN: 'metrics-token-0123456789',
    });
    const running = await start(config, logger);
    try {
      await running.shutdown('SIGTERM');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const problems = lines.filter((line) => line.includes('redis unavailable'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/ECONNREFUSED/);
    expect(lines.some((line) => line.includes('redis is not reachable yet'))).toBe(true);
    expect(lines.some((line) => line.includes(`redis://127.0.0.1:${port}/0`))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/S3cret-Pa55|metrics-token-0123456789/);
  }, 20_000);

  it('hides a URL password inside any logged error, message and stack', () => {
    const { logger, lines } = capturedLogger();
    logger.warn({ err: new Error('connect ENOENT //:hunter2@127.0.0.1:6740') }, 'redis connection problem');
    logger.error({ err: new Error('failed', { cause: new Error('redis://user:hunter2@cache:6379 refused') }) }, 'request failed');
    const text = lines.join('\n');
    expect(text).toContain('connect ENOENT //:***@127.0.0.1:6740');
    expect(text).toContain('redis://user:***@cache:6379');
    expect(text).not.toContain('hunter2');
  });

  it('hides the configured Redis password in a Redis error even outside a URL, raw or percent-decoded', () => {
    const error = Object.assign(new Error('AUTH p@ss/w0rd failed; also p%40ss%2Fw0rd and sentinel-pw here'), { code: 'WRONGPASS' });
    expect(redactRedisError(error, { url: 'redis://:p%40ss%2Fw0rd@cache:6379' })).toEqual({ message: 'AUTH *** failed; also *** and sentinel-pw here', code: 'WRONGPASS' });
    expect(redactRedisError(error, { password: 'sentinel-pw' }).message).toBe('AUTH p@ss/w0rd failed; also p%40ss%2Fw0rd and *** here');
    expect(redactRedisError('connect ENOENT //:secret@127.0.0.1:6740', {})).toEqual({ message: 'connect ENOENT //:***@127.0.0.1:6740' });
  });
});
