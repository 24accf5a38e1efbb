import { freshDatabaseUrl } from '../support/accounts';
import { join } from 'node:path';
import { writeKeyPair } from '../../src/key-files/files';
import { call, CSRF, loginCall, newAccount, profileCall, register, renew, renewCall, sleep, type Creds } from './support/client';
import { ChildServer, makeKeyDir, RedisProcess, redisBinariesPresent } from './support/processes';

/**
 * Two instances of the real server (separate processes) behind one imaginary load balancer:
 * same key files, same StateProof secret, same Redis. Nothing about a session may depend on
 * which instance a request reaches.
 */
const present = redisBinariesPresent();
if (!present) console.warn('SKIPPED test/reliability/multi-instance.test.ts: redis-server/redis-cli are not installed (apt-get install redis-server)');
const describeWithRedis = present ? describe : describe.skip;

const GRACE_SECONDS = 5;

describeWithRedis('two instances, one Redis', () => {
  let redis: RedisProcess;
  let keys: Awaited<ReturnType<typeof makeKeyDir>>;
  let a: ChildServer;
  let b: ChildServer;
  const started: ChildServer[] = [];

  /** A and B share the accounts, as instances behind one load balancer do. */
  let databaseUrl: string;
  const baseEnv = () => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    ...keys.env,
    JTS_ROTATION_GRACE: String(GRACE_SECONDS),
    // Limits on, shared through Redis; only the per-account one is low enough to matter here.
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_LOGIN_IP: '100000/1m',
    RATE_LIMIT_LOGIN_ACCOUNT: '4/15m',
    RATE_LIMIT_REGISTER: '100000/1h',
    RATE_LIMIT_RENEW: '100000/1m',
    RATE_LIMIT_PASSWORD: '100000/1m',
  });

  async function startInstance(name: string, env: Record<string, string> = {}): Promise<ChildServer> {
    const server = await ChildServer.start({ name, env: { ...baseEnv(), ...env } });
    started.push(server);
    return server;
  }

  beforeAll(async () => {
    redis = await RedisProcess.start();
    keys = await makeKeyDir();
    databaseUrl = await freshDatabaseUrl();
    [a, b] = await Promise.all([startInstance('multi-a'), startInstance('multi-b')]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((server) => server.kill()));
    await redis.destroy();
    keys.cleanup();
    for (const server of started) expect(server.logs).not.toMatch(/unhandled/i);
  });

  it('renews on B what A issued; a replay on A after the window kills the session on both at once', async () => {
    const first = await register(a.url, newAccount());
    const second = await renew(b.url, first.stateProof);
    // The new BearerPass works on both; so does the old one until it expires.
    for (const server of [a, b]) {
      expect((await profileCall(server.url, second.bearerPass)).status).toBe(200);
      expect((await profileCall(server.url, first.bearerPass)).status).toBe(200);
    }
    // Inside the window, the consumed StateProof gets B's answer from A, byte for byte.
    const again = await renewCall(a.url, first.stateProof);
    expect(again.status).toBe(200);
    expect(again.stateProof).toBe(second.stateProof);
    expect(again.body.bearerPass).toBe(second.bearerPass);

    await sleep(GRACE_SECONDS * 1000 + 600);
    const replay = await renewCall(a.url, first.stateProof);
    expect(replay.status).toBe(401);
    expect(replay.body.error_code).toBe('JTS-401-05');

    // At once, on both instances: every BearerPass and the latest StateProof are dead.
    const after = await Promise.all([
      profileCall(a.url, second.bearerPass),
      profileCall(b.url, second.bearerPass),
      profileCall(a.url, first.bearerPass),
      profileCall(b.url, first.bearerPass),
      renewCall(b.url, second.stateProof),
    ]);
    expect(after.map((r) => [r.status, r.body.error_code])).toEqual(Array(5).fill([401, 'JTS-401-05']));
  });

  it('concurrent renewals with one StateProof, split across A and B, rotate once', async () => {
    const creds = await register(b.url, newAccount());
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => renewCall(i % 2 === 0 ? a.url : b.url, creds.stateProof)));
    expect(answers.map((r) => r.status)).toEqual(Array(24).fill(200));
    const stateProofs = new Set(answers.map((r) => r.stateProof));
    expect(stateProofs.size).toBe(1);
    expect(new Set(answers.map((r) => r.body.bearerPass)).size).toBe(1);
    const [next] = [...stateProofs] as [string];
    expect(next).not.toBe(creds.stateProof);
    // The one new StateProof is the session's only way forward, on either instance.
    await expect(renew(a.url, next)).resolves.toBeDefined();
  });

  it('a sign-in code mailed by A signs in on B: emailed challenges live in the shared accounts database, not in one instance', async () => {
    const account = newAccount();
    await register(a.url, account);
    expect((await call(a.url, '/jts/login/code', { method: 'POST', headers: CSRF, body: { email: account.email } })).status).toBe(202);
    // The mail leaves after the answer (the same timing whether or not the account exists): A's development outbox.
    let code: string | undefined;
    for (let tries = 0; code === undefined && tries < 50; tries++) {
      const { mails } = (await call(a.url, '/dev/outbox')).body as { mails: { to: string; text: string }[] };
      code = /\b(\d{6})\b/.exec(mails.find((mail) => mail.to === account.email)?.text ?? '')?.[1];
      if (code === undefined) await sleep(100);
    }
    expect(code).toBeDefined();
    const signedIn = await call(b.url, '/jts/login/code/verify', { method: 'POST', headers: CSRF, body: { email: account.email, code } });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.bearerPass).toEqual(expect.any(String));
  });

  it('shares rate-limit counters: failed logins on A and B together trip the per-account limit', async () => {
    const account = newAccount();
    await register(a.url, account);
    const wrong = { email: account.email, password: 'not the password at all' };
    // Two failures on each instance: neither saw more than 2, the limit is 4.
    for (const server of [a, b, a, b]) expect((await loginCall(server.url, wrong)).status).toBe(401);
    for (const server of [a, b]) {
      const limited = await loginCall(server.url, wrong);
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ error: 'rate_limited', action: 'retry' });
      expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(0);
    }
    // Another account is not affected.
    const other = newAccount();
    await register(b.url, other);
    expect((await loginCall(a.url, other)).status).toBe(200);
  });

  it('publishes the same JWKS on every instance', async () => {
    const [ja, jb] = await Promise.all([call(a.url, '/.well-known/jts-jwks'), call(b.url, '/.well-known/jts-jwks')]);
    expect(ja.status).toBe(200);
    expect(ja.body).toEqual(jb.body);
    expect((ja.body.keys as unknown[]).length).toBe(1);
  });

  /**
   * The rollout order that never breaks a valid token on another instance:
   *   1. publish: every instance, one by one, restarts with the NEW public key in
   *      JTS_PREVIOUS_PUBLIC_KEYS while still signing with the old key;
   *   2. switch: every instance, one by one, restarts signing with the new key, the OLD public
   *      key in JTS_PREVIOUS_PUBLIC_KEYS;
   *   3. retire: once every old BearerPass has expired (JTS_BEARER_PASS_LIFETIME + clock skew
   *      after step 2 finished; JWKS caches of other services too), drop the old public key.
   */
  it('rolls a signing key out instance by instance without ever failing a valid token elsewhere', async () => {
    const old = { priv: keys.privateKey, pub: keys.publicKey };
    const next = { priv: join(keys.dir, 'next.pem'), pub: join(keys.dir, 'next.pub.pem') };
    await writeKeyPair({ privateKeyPath: next.priv, publicKeyPath: next.pub }, 'ES256', { force: true });

    const live: { creds: Creds; from: string }[] = [];
    const mint = async (server: ChildServer, label: string) => {
      live.push({ creds: await register(server.url, newAccount()), from: label });
    };
    /** Every token minted so far (and not meant to be retired) verifies on every running instance. */
    const everyTokenWorksEverywhere = async (step: string) => {
      for (const server of [a, b]) {
        for (const { creds, from } of live) {
          const res = await profileCall(server.url, creds.bearerPass);
          if (res.status !== 200) throw new Error(`${step}: a BearerPass minted by ${from} failed on ${server.name}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
    };
    const jwksKids = async (server: ChildServer) => ((await call(server.url, '/.well-known/jts-jwks')).body.keys as { kid: string }[]).map((k) => k.kid).sort();
    const restart = async (which: 'a' | 'b', signer: { priv: string; pub: string }, previous: string | undefined, step: string) => {
      const server = which === 'a' ? a : b;
      await server.kill();
      const env = { JTS_PRIVATE_KEY_PATH: signer.priv, JTS_PUBLIC_KEY_PATH: signer.pub, JTS_PREVIOUS_PUBLIC_KEYS: previous === undefined ? '' : `ES256:${previous}` };
      const fresh = await startInstance(`multi-${which}-${step}`, env);
      if (which === 'a') a = fresh;
      else b = fresh;
      await mint(fresh, `${which} after ${step}`);
      await everyTokenWorksEverywhere(`${step} (${which} restarted)`);
    };

    await mint(a, 'a (old key)');
    await mint(b, 'b (old key)');
    const oldKids = await jwksKids(a);

    // 1. Publish the new public key everywhere, still signing with the old one.
    await restart('b', old, next.pub, 'publish');
    await restart('a', old, next.pub, 'publish');
    const bothKids = await jwksKids(a);
    expect(bothKids).toHaveLength(2);
    expect(await jwksKids(b)).toEqual(bothKids);

    // 2. Switch the signers, keeping the old public key published.
    await restart('b', next, old.pub, 'switch');
    await restart('a', next, old.pub, 'switch');
    expect(await jwksKids(a)).toEqual(bothKids);
    expect(await jwksKids(b)).toEqual(bothKids);

    // 3. Retire the old key (in production: after the BearerPass lifetime). Only the tokens of the
    //    old key stop working — exactly the ones that would have expired by then.
    const oldTokens = live.filter(({ from }) => !from.includes('switch'));
    live.splice(0, live.length, ...live.filter(({ from }) => from.includes('switch')));
    await restart('b', next, undefined, 'retire');
    await restart('a', next, undefined, 'retire');
    const newKids = await jwksKids(a);
    expect(newKids).toHaveLength(1);
    expect(await jwksKids(b)).toEqual(newKids);
    expect(newKids).not.toEqual(oldKids);
    for (const { creds } of oldTokens) expect((await profileCall(b.url, creds.bearerPass)).body.error_code).toBe('JTS-401-02');
  }, 90_000);

  it('shows why the order matters: an instance signing with an unpublished key is refused by the others', async () => {
    const rogue = { priv: join(keys.dir, 'rogue.pem'), pub: join(keys.dir, 'rogue.pub.pem') };
    await writeKeyPair({ privateKeyPath: rogue.priv, publicKeyPath: rogue.pub }, 'ES256', { force: true });
    const early = await startInstance('multi-c-switched-too-early', { JTS_PRIVATE_KEY_PATH: rogue.priv, JTS_PUBLIC_KEY_PATH: rogue.pub });
    const creds = await register(early.url, newAccount());
    expect((await profileCall(early.url, creds.bearerPass)).status).toBe(200);
    const elsewhere = await profileCall(a.url, creds.bearerPass);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.error_code).toBe('JTS-401-02');
    await early.kill();
  }, 30_000);
});
