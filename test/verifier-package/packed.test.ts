import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import request from 'supertest';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/lib/free-port';
import { addClient } from '../oauth/support';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { until } from './feed-server';

/**
 * The verifier package as a service gets it: `npm pack` (its prepack builds dist/), the tarball
 * installed into a project outside the repository (jose and Express from the npm cache or the
 * registry), and the README's example run verbatim against a real auth server.
 */
const ROOT = join(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'packages', 'verifier');
const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

/** The first ```js block after the heading "## Example" of the package README. */
function readmeExample(): string {
  const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Example\n'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error('the package README has no js example under "## Example"');
  return match[1];
}

let workspace: string;
let clone: string | undefined;
let tarball: string;
let files: string[];
let auth: TestApp;
let authServer: Server | undefined;
let service: ChildProcess | undefined;
let serviceOutput = '';
let base: string;

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'jts-verifier-pack-'));
  // A fresh clone of the package: its committed files only (no dist/), packed where the repository's
  // node_modules (TypeScript, @types/node) are found, as in a clone after `npm ci`. Not in
  // packages/verifier itself: prepack rebuilds dist/, which a built server running meanwhile imports.
  clone = join(ROOT, 'test-output', `verifier-pack-${process.pid}`);
  for (const path of execFileSync('git', ['ls-files', 'packages/verifier'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n')) {
    const target = join(clone, relative(PACKAGE, join(ROOT, path)));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(ROOT, path), target);
  }
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', workspace], { cwd: clone, env: npmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error('npm pack printed nothing');
  tarball = join(workspace, packed.filename);
  files = packed.files.map((file) => file.path).sort();

  const project = join(workspace, 'service');
  mkdirSync(project);
  const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'orders-service', private: true, type: 'module', dependencies: { '@jts-auth/verifier': `file:${tarball}`, express: rootPackage.dependencies.express } }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-package-lock'], { cwd: project, env: npmEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(join(project, 'index.js'), readmeExample());

  auth = await buildTestApp({ accounts: 'postgres' });
  const clientSecret = await addClient(auth, 'orders', 'https://orders.example.com', ['jts:events']);
  const listening = await new Promise<Server>((resolve) => {
    const server = auth.app.listen(0, '127.0.0.1', () => {
      resolve(server);
    });
  });
  authServer = listening;
  const authUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  service = spawn(process.execPath, ['index.js'], {
    cwd: project,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), JTS_AUTH_URL: authUrl, JTS_ISSUER: auth.config.jts.issuer, JTS_AUDIENCE: auth.config.jts.audience, JTS_CLIENT_ID: 'orders', JTS_CLIENT_SECRET: clientSecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout?.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));
  service.stderr?.on('data', (chunk: Buffer) => (serviceOutput += chunk.toString()));
  await until(() => serviceOutput.includes('listening on'), `the README example to listen (output: ${serviceOutput})`, 20_000);
}, 180_000);

afterAll(async () => {
  // Only when a test failed before the shutdown test: never leave the process behind.
  if (service && service.exitCode === null) {
    const exited = new Promise((resolve) => service?.once('exit', resolve));
    service.kill('SIGKILL');
    await exited;
  }
  const listening = authServer;
  if (listening) {
    listening.closeAllConnections();
    await new Promise<void>((resolve) => listening.close(() => { resolve(); }));
  }
  await (auth as TestApp | undefined)?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
  if (clone !== undefined) rmSync(clone, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, challenge: response.headers.get('www-authenticate') };
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ headers: { authorization: `Bearer ${token}`, ...extra } });

describe('the packed verifier package', () => {
  it('holds dist/, README and LICENCE only, and is small', () => {
    expect(files.filter((path) => !/^dist\/.+\.(js|d\.ts)$/.test(path))).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/express/index.js', 'dist/express/index.d.ts']));
    expect(statSync(tarball).size).toBeLessThan(60_000);
  });

  it('installs jose and nothing of the server (no bcrypt, ioredis, pino, prom-client)', () => {
    const modules = join(workspace, 'service', 'node_modules');
    expect(existsSync(join(modules, 'jose'))).toBe(true);
    for (const name of ['bcrypt', 'ioredis', 'pino', 'prom-client', 'kysely', 'typescript']) expect([name, existsSync(join(modules, name))]).toEqual([name, false]);
    const installed = JSON.parse(readFileSync(join(modules, '@jts-auth', 'verifier', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(installed.dependencies)).toEqual(['jose']);
  });
  it("type-checks in a TypeScript service without Express's types (the main entry needs none)", () => {
    const project = join(workspace, 'service');
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        "import { createVerifier, JtsError, type FeedStatus, type VerifyResult } from '@jts-auth/verifier';",
        "const verifier = createVerifier({ jwksUrl: 'https://auth.example.com/.well-known/jts-jwks', issuer: 'https://auth.example.com' });",
        "export async function check(token: string): Promise<string> {",
        '  const result: VerifyResult = await verifier.verify(token);',
        "  const status: FeedStatus = verifier.status();",
        "  return result.ok ? result.payload.prn : result.error instanceof JtsError ? `${result.error.code} ${status.feed}` : 'never';",
        '}',
      ].join('\n'),
    );
    expect(existsSync(join(project, 'node_modules', '@types', 'express'))).toBe(false);
    // skipLibCheck off: the package's own declarations are checked too.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'consumer.ts'];
    expect(() => execFileSync(process.execPath, [tsc, ...args], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).not.toThrow();
  });
});

describe("the README's example, installed from the tarball, against a real auth server", () => {
  it('lets a valid BearerPass with the permission through', async () => {
    const user = await createUser(auth, { permissions: ['read:orders'] });
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const answer = await call('/orders', bearer(bearerPass));
    expect(answer).toMatchObject({ status: 200, type: 'application/json; charset=utf-8' });
    expect(JSON.parse(answer.text)).toEqual({ user: user.id, orders: [] });
  });

  it('answers a missing permission with the JSON error body, never HTML or a stack trace', async () => {
    const user = await createUser(auth, { permissions: ['read:orders'] });
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const answer = await call('/orders', { method: 'POST', body: '{}', ...bearer(bearerPass, { 'content-type': 'application/json' }) });
    expect(answer).toMatchObject({ status: 403, type: 'application/json; charset=utf-8' });
    expect(JSON.parse(answer.text)).toEqual({ error: 'permission_denied', error_code: 'JTS-403-02', message: 'Missing permission: write:orders.', action: 'none', timestamp: expect.any(Number) });
    expect(answer.text).not.toMatch(/<html|<pre|\n\s+at /i);
  });

  it('answers a missing or tampered BearerPass with 401 and its challenge', async () => {
    const none = await call('/orders');
    expect(none).toMatchObject({ status: 401, type: 'application/json; charset=utf-8', challenge: 'Bearer error="stateproof_invalid"' });
    const user = await createUser(auth, { permissions: ['read:orders'] });
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const tampered = await call('/orders', bearer(`${bearerPass.slice(0, -4)}AAAA`));
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.text)).toMatchObject({ error: 'signature_invalid', error_code: 'JTS-401-02', action: 'reauth' });
  });

  it("answers the service's own errors (a bad JSON body) through jtsErrorHandler as JSON", async () => {
    const user = await createUser(auth, { permissions: ['write:orders'] });
    const { bearerPass } = await login(auth.app, user.email, user.password);
    const answer = await call('/orders', { method: 'POST', body: '{"item":', ...bearer(bearerPass, { 'content-type': 'application/json' }) });
    expect(answer).toMatchObject({ status: 400, type: 'application/json; charset=utf-8' });
    expect(JSON.parse(answer.text)).toMatchObject({ error: 'invalid_request', action: 'none' });
    expect(answer.text).not.toMatch(/<html|<pre|\n\s+at /i);
    const created = await call('/orders', { method: 'POST', body: '{"item":"book"}', ...bearer(bearerPass, { 'content-type': 'application/json' }) });
    expect(created.status).toBe(201);
  });

  it('subscribes to the server’s feed and refuses a BearerPass once its session is logged out', async () => {
    await until(async () => (JSON.parse((await call('/verifier-status')).text) as { feed: string }).feed === 'connected', 'the feed connected');
    const user = await createUser(auth, { permissions: ['read:orders'] });
    const { bearerPass, stateProof } = await login(auth.app, user.email, user.password);
    expect((await call('/orders', bearer(bearerPass))).status).toBe(200);

    expect((await request(auth.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`)).status).toBe(200);
    // Not a timing test (the bench measures the latency): the bound only keeps a failure short.
    await until(async () => (await call('/orders', bearer(bearerPass))).status === 401, 'the logout to reach the service', 10_000);
    const refused = await call('/orders', bearer(bearerPass));
    expect(refused).toMatchObject({ type: 'application/json; charset=utf-8', challenge: 'Bearer error="session_terminated"' });
    expect(JSON.parse(refused.text)).toMatchObject({ error: 'session_terminated', error_code: 'JTS-401-04', action: 'reauth' });
    expect(JSON.parse((await call('/verifier-status')).text)).toMatchObject({ feed: 'connected', revokedSessions: 1, gaps: 0 });
  });

  it('stops on SIGTERM as the example says: verifier.close() ends the feed connection, nothing keeps the process alive', async () => {
    const running = service;
    if (!running) throw new Error('the example is not running');
    const exited = new Promise<number | null>((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => { resolve('still running after 5 s'); }, 5000))]);
    expect(code).toBe(0);
  });
});
