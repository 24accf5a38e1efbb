import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { algorithmSpec, JTS_ALGORITHMS, type JtsAlgorithm } from '../../src/jts/algorithms';
import { createRingKey } from '../../src/jts/key-ring';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs keygen with only the variables given here, so the developer's shell or .env cannot leak in. */
function keygen(args: string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(JTS_|REDIS_|DOTENV_)/.test(name)));
  return new Promise((done) => {
    execFile(process.execPath, [built('cli/keygen'), ...args], { cwd: ROOT, env: { ...base, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function printedKid(stdout: string): string | undefined {
  return /^kid: (\S+)$/m.exec(stdout)?.[1];
}

function expectOneLineError(run: Run): void {
  expect(run.code).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('npm run keygen', () => {
  let dir: string;
  let env: { JTS_PRIVATE_KEY_PATH: string; JTS_PUBLIC_KEY_PATH: string; JTS_STATE_PROOF_SECRET_PATH: string };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jts-keygen-'));
    env = {
      JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
      JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
      JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
    };
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes an ES256 pair at the configured paths, the private key readable by its owner only, and prints its kid', async () => {
    const run = await keygen([], env);
    expect(run.code).toBe(0);
    const privateKey = createPrivateKey(readFileSync(env.JTS_PRIVATE_KEY_PATH, 'utf8'));
    const publicKey = createPublicKey(readFileSync(env.JTS_PUBLIC_KEY_PATH, 'utf8'));
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(statSync(env.JTS_PRIVATE_KEY_PATH).mode & 0o777).toBe(0o600);
    const ringKey = await createRingKey({ alg: 'ES256', privateKey, publicKey });
    expect(printedKid(run.stdout)).toBe(ringKey.kid);
    expect(run.stdout).toContain('alg: ES256');
    expect(run.stdout).toContain(`JTS_PRIVATE_KEY_PATH=${env.JTS_PRIVATE_KEY_PATH}`);
    expect(run.stdout).toContain(`JTS_PUBLIC_KEY_PATH=${env.JTS_PUBLIC_KEY_PATH}`);
  });

  it('refuses to overwrite an existing key without --force and leaves it untouched', async () => {
    writeFileSync(env.JTS_PRIVATE_KEY_PATH, 'old private');
    const run = await keygen([], env);
    expectOneLineError(run);
    expect(run.stderr).toContain('--force');
    expect(readFileSync(env.JTS_PRIVATE_KEY_PATH, 'utf8')).toBe('old private');
    expect(existsSync(env.JTS_PUBLIC_KEY_PATH)).toBe(false);
  });

  it('replaces an existing key with --force and tightens a loose file mode to 0600', async () => {
    writeFileSync(env.JTS_PRIVATE_KEY_PATH, 'old private');
    writeFileSync(env.JTS_PUBLIC_KEY_PATH, 'old public');
    chmodSync(env.JTS_PRIVATE_KEY_PATH, 0o644);
    const run = await keygen(['--force'], env);
    expect(run.code).toBe(0);
    expect(() => createPrivateKey(readFileSync(env.JTS_PRIVATE_KEY_PATH, 'utf8'))).not.toThrow();
    expect(statSync(env.JTS_PRIVATE_KEY_PATH).mode & 0o777).toBe(0o600);
  });

  it.each(JTS_ALGORITHMS.filter((alg) => alg !== 'ES256'))('makes a %s pair the key ring accepts, under --dir and --name', async (alg: JtsAlgorithm) => {
    const rsa = algorithmSpec(alg).family !== 'EC';
    const run = await keygen(['--alg', alg, '--dir', dir, '--name', alg, ...(rsa ? ['--rsa-bits', '2048'] : [])], env);
    expect(run.code).toBe(0);
    const privateKey = createPrivateKey(readFileSync(join(dir, `${alg}.pem`), 'utf8'));
    const publicKey = createPublicKey(readFileSync(join(dir, `${alg}.pub.pem`), 'utf8'));
    const ringKey = await createRingKey({ alg, privateKey, publicKey });
    expect(printedKid(run.stdout)).toBe(ringKey.kid);
    expect(run.stdout).toContain(`alg: ${alg}`);
    expect(existsSync(env.JTS_PRIVATE_KEY_PATH)).toBe(false);
  });

  it('refuses an RSA modulus below 2048 bits with one line on stderr and writes nothing', async () => {
    const run = await keygen(['--alg', 'RS256', '--rsa-bits', '1024'], env);
    expectOneLineError(run);
    expect(run.stderr).toContain('--rsa-bits');
    expect(existsSync(env.JTS_PRIVATE_KEY_PATH)).toBe(false);
  });

  it('writes a StateProof secret of at least 32 random bytes in base64url with --secret', async () => {
    const run = await keygen(['--secret'], env);
    expect(run.code).toBe(0);
    const text = readFileSync(env.JTS_STATE_PROOF_SECRET_PATH, 'utf8').trim();
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(text, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(statSync(env.JTS_STATE_PROOF_SECRET_PATH).mode & 0o777).toBe(0o600);
    expect(run.stdout).not.toContain(text);
    expect(existsSync(env.JTS_PRIVATE_KEY_PATH)).toBe(false);
  });

  it('refuses to overwrite a StateProof secret without --force', async () => {
    writeFileSync(env.JTS_STATE_PROOF_SECRET_PATH, 'old secret\n');
    const run = await keygen(['--secret'], env);
    expectOneLineError(run);
    expect(readFileSync(env.JTS_STATE_PROOF_SECRET_PATH, 'utf8')).toBe('old secret\n');
  });
});

describe('npm run keygen, told why and what next', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jts-keygen-next-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('says where an existing key came from and the ways forward', async () => {
    const env = { JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'), JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem') };
    expect((await keygen([], env)).code).toBe(0);
    const again = await keygen([], env);
    expectOneLineError(again);
    expect(again.stderr).toContain('npm start creates a development pair');
    expect(again.stderr).toContain('--force');
    expect(again.stderr).toContain('--name');
  });

  it('prints the publish-first step, not the switch, for a new pair beside the key in use', async () => {
    const env = { JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'), JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'), JTS_PREVIOUS_PUBLIC_KEYS: `ES256:${join(dir, 'old.pub.pem')}` };
    expect((await keygen([], env)).code).toBe(0);
    const run = await keygen(['--dir', dir, '--name', 'signing-2027-01'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const publish = lines.findIndex((line) => line.startsWith('Rotation, step 1 — publish first'));
    const switchAt = lines.findIndex((line) => line.includes('switch signing'));
    expect(publish).toBeGreaterThan(0);
    expect(switchAt).toBeGreaterThan(publish);
    expect(lines[publish + 1]).toBe(`  JTS_PREVIOUS_PUBLIC_KEYS=ES256:${join(dir, 'old.pub.pem')},ES256:${join(dir, 'signing-2027-01.pub.pem')}`);
    expect(run.stdout).not.toContain('Environment:');
  });
});
