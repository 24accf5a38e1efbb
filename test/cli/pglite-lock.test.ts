import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../scripts/lib/free-port';
import { DataDirBusyError, LOCK_FILE, lockDataDir } from '../../src/accounts/data-dir-lock';
import { built } from '../support/built';

const ROOT = resolve(__dirname, '../..');
const execFileAsync = promisify(execFile);

/** Only these variables: no .env, no developer shell, no Redis (sessions in the server's memory). */
function baseEnv(dataDir: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'development', BCRYPT_ROUNDS: '10', DATA_DIR: dataDir, JTS_DEMO_USERS: 'false' };
}

function userCli(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [built('cli/user'), ...args], { cwd: ROOT, env: baseEnv(dataDir) }, (error, stdout, stderr) => {
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run user on the embedded PGlite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jts-lock-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses, saying what to do, while a server holds the data folder, and works once it stopped', async () => {
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const server = spawn(process.execPath, [built('server')], {
      cwd: ROOT,
      env: {
        ...baseEnv(dataDir),
        HOST: '127.0.0.1',
        PORT: String(port),
        JTS_PRIVATE_KEY_PATH: join(dir, 'signing-key.pem'),
        JTS_PUBLIC_KEY_PATH: join(dir, 'signing-key.pub.pem'),
        JTS_STATE_PROOF_SECRET_PATH: join(dir, 'state-proof.secret'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<void>((done) => server.once('exit', () => { done(); }));
    try {
      // A cold tsx compile plus PGlite's initdb: 22 s alone on Node 26, over 30 s while the other suites run.
      const deadline = Date.now() + 60_000;
      while (!output.includes('jts auth server listening')) {
        if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
        await new Promise((done) => setTimeout(done, 50));
      }
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);

      const refused = await userCli(['list'], dataDir);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`in use by a running server (pid ${server.pid})`);
      expect(refused.stderr).toContain('Stop that server and run the command again');
      expect(refused.stderr).toContain('DATABASE_URL');
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
    // A graceful stop releases the lock; a lock left by a dead process (SIGKILL) is taken over.
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    const added = await userCli(['add', '--email', 'after@example.com', '--password', 'correct horse'], dataDir);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect((await userCli(['list'], dataDir)).stdout).toContain('after@example.com');
  }, 90_000);
});

describe('the data folder lock', () => {
  it('is refused while a live process holds it, and taken over from a process that died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jts-lock-'));
    try {
      // A process that has exited: its pid no longer runs.
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((done) => dead.once('exit', done));
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead.pid, owner: 'server' }));
      const release = lockDataDir(dir, 'cli');
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, owner: 'cli' });
      release();
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

      // The parent of this jest worker is alive and is not this process.
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, owner: 'server' }));
      expect(() => lockDataDir(dir, 'cli')).toThrow(DataDirBusyError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the data folder lock under a race', () => {
  it('goes to exactly one of several processes taking over the same stale lock at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jts-lock-race-'));
    try {
      const dead = spawn(process.execPath, ['-e', '']);
      await new Promise((done) => dead.once('exit', done));
      const script = `
        const { lockDataDir } = require(${JSON.stringify(join(ROOT, 'src/accounts/data-dir-lock.ts'))});
        // A barrier: every child spins until the same instant, then all go for the lock together.
        while (Date.now() < Number(process.argv[2])) {}
        let answer;
        try { lockDataDir(process.argv[1], 'cli'); answer = 'locked'; } catch (error) { answer = error.name; }
        process.stdout.write(answer);
        // The winner stays alive a moment, so that the losers see a live holder.
        setTimeout(() => {}, answer === 'locked' ? 1500 : 0);
      `;
      for (let round = 0; round < 2; round++) {
        writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead.pid, owner: 'server' }));
        const startAt = Date.now() + 2500;
        const answers = await Promise.all(
          Array.from({ length: 6 }, async () => (await execFileAsync(process.execPath, ['--require', 'tsx/cjs', '-e', script, dir, String(startAt)], { cwd: ROOT })).stdout),
        );
        expect(answers.sort()).toEqual(['DataDirBusyError', 'DataDirBusyError', 'DataDirBusyError', 'DataDirBusyError', 'DataDirBusyError', 'locked']);
        // Nothing is left behind but the lock (drafts and moved-aside files are removed).
        expect(readdirSync(dir)).toEqual([LOCK_FILE]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
