import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config/load';
import { StartupError } from '../../src/config/startup-error';
import { KeyFileError, loadKeyRing } from '../../src/key-files/files';
import { UsageError } from '../../src/cli/args';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');
const silent = pino({ level: 'silent' });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts the real server entry point with only these variables (no .env, no developer shell). */
function startServer(env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|DOTENV_|PORT|NODE_ENV|LOG_LEVEL|DATABASE_|DATA_DIR)/.test(name)));
  return new Promise((done) => {
    execFile(process.execPath, [built('server')], { cwd: ROOT, env: { ...base, LOG_LEVEL: 'info', DATA_DIR: 'memory://', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('start-up errors share one coded base', () => {
  it('gives ConfigError, KeyFileError and UsageError a code and one line per problem', () => {
    let config: unknown;
    try {
      loadConfig({ PORT: 'x', JTS_ALGORITHM: 'none' });
    } catch (error) {
      config = error;
    }
    expect(config).toBeInstanceOf(StartupError);
    expect(config).toBeInstanceOf(ConfigError);
    expect((config as ConfigError).code).toBe('config_invalid');
    expect((config as ConfigError).problems).toEqual([expect.stringMatching(/^PORT="x": /), expect.stringMatching(/^JTS_ALGORITHM="none": /)]);
    expect(new KeyFileError('JTS_PRIVATE_KEY_PATH=/k: missing')).toMatchObject({ code: 'key_file_unusable', problems: ['JTS_PRIVATE_KEY_PATH=/k: missing'] });
    expect(new UsageError('--alg "x": expected one of ES256')).toMatchObject({ code: 'usage', problems: ['--alg "x": expected one of ES256'] });
  });

  it('names the variable and the file of a key that is not PEM, with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jts-keys-'));
    try {
      const privateKeyPath = join(dir, 'signing-key.pem');
      writeFileSync(privateKeyPath, 'not a key\n');
      const loading = loadKeyRing({ algorithm: 'ES256', privateKeyPath, publicKeyPath: join(dir, 'signing-key.pub.pem'), previousPublicKeys: [] }, { production: true, logger: silent });
      await expect(loading).rejects.toBeInstanceOf(KeyFileError);
      await expect(loading).rejects.toThrow(new RegExp(`^JTS_PRIVATE_KEY_PATH=${privateKeyPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a PEM private key .*npm run keygen`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the server process on a start-up error', () => {
  it('prints one line per bad variable and exits 1, with no stack', async () => {
    const run = await startServer({ PORT: 'x', JTS_ALGORITHM: 'HS256' });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual(['Invalid configuration:', expect.stringMatching(/^ {2}PORT="x": /), expect.stringMatching(/^ {2}JTS_ALGORITHM="HS256": /)]);
  }, 30_000);

  it('logs one fatal line naming an unusable key file and exits 1, with no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jts-keys-'));
    try {
      const privateKeyPath = join(dir, 'broken.pem');
      writeFileSync(privateKeyPath, '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n');
      const run = await startServer({ NODE_ENV: 'development', PORT: '0', JTS_PRIVATE_KEY_PATH: privateKeyPath, JTS_PUBLIC_KEY_PATH: join(dir, 'none.pub.pem'), JTS_STATE_PROOF_SECRET_PATH: join(dir, 'secret'), JTS_DEMO_USERS: 'false' });
      expect(run.code).toBe(1);
      const fatal = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string; code?: string; err?: unknown })
        .filter((line) => line.level === 60);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatchObject({ code: 'key_file_unusable', msg: expect.stringContaining(`JTS_PRIVATE_KEY_PATH=${privateKeyPath}: not a PEM private key`) as string });
      expect(fatal[0]?.err).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
