import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Redis } from 'ioredis';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { CSRF, login, renew, renewOk, stateProofFrom } from '../support/http';
import { PrivateRedis } from '../support/redis-server';

/** Every key under the test's prefix (SCAN, never KEYS). */
async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Everything Redis holds under the prefix, as text. */
async function dump(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  for (const key of await keysOf(redis, prefix)) {
    parts.push(key);
    const type = await redis.type(key);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES')));
    if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
  }
  return parts.join('\n');
}

describe('Redis store invariants', () => {
  let t: TestApp;
  let redis: Redis;
  let user: Awaited<ReturnType<typeof createUser>>;

  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis' });
    redis = t.redis!;
    user = await createUser(t);
  });
  afterEach(async () => {
    await t.close();
  });

  it('never forks a session: 20 concurrent renewals with one StateProof get one rotation', async () => {
    const { stateProof } = await login(t.app, user.email, user.password);
    const answers = await Promise.all(Array.from({ length: 20 }, () => renew(t.app, stateProof)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => stateProofFrom(a))).size).toBe(1);
    expect(new Set(answers.map((a) => (a.body as { bearerPass: string }).bearerPass)).size).toBe(1);
    expect(t.audits.filter((e) => e.event === 'renew')).toHaveLength(1);
    const next = stateProofFrom(answers[0]!)!;
    await expect(renewOk(t.app, next)).resolves.toBeDefined();
  });

  it('uses the same keys and bytes per session after 500 renewals as after 1', async () => {
    const prefix = t.config.redis.keyPrefix;
    let { stateProof } = await login(t.app, user.email, user.password);
    stateProof = (await renewOk(t.app, stateProof)).stateProof;
    const measure = async () => {
      const keys = (await keysOf(redis, prefix)).filter((key) => !key.endsWith(':user') && !key.includes('email:') && !key.endsWith('users'));
      let bytes = 0;
      for (const key of keys) bytes += (await redis.memory('USAGE', key)) ?? 0;
      return { keys: keys.length, bytes };
    };
    const afterOne = await measure();
    for (let i = 0; i < 499; i++) stateProof = (await renewOk(t.app, stateProof)).stateProof;
    const afterMany = await measure();
    expect(afterMany).toEqual(afterOne);
    expect(afterOne.keys).toBe(2); // session hash, grace slot (a one-session user's index is a field of their mirror)
  });

  it('keeps nothing usable at rest: no StateProof, mac or BearerPass appears in any key or value', async () => {
    const issued: string[] = [];
    let creds = await login(t.app, user.email, user.password);
    issued.push(creds.stateProof, creds.bearerPass);
    for (let i = 0; i < 5; i++) {
      creds = await renewOk(t.app, creds.stateProof);
      issued.push(creds.stateProof, creds.bearerPass);
    }
    const everything = await dump(redis, t.config.redis.keyPrefix);
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of issued) {
      expect(everything).not.toContain(secret);
      // The last part of either artefact (the mac, the signature) is what makes it usable.
      expect(everything).not.toContain(secret.split('.').pop()!);
    }
  });

  it('rejects garbage and forged StateProofs without a Redis round trip', async () => {
    const { stateProof } = await login(t.app, user.email, user.password);
    const parts = stateProof.split('.');
    const forged = [...parts.slice(0, 4), 'A'.repeat(43)].join('.');
    const otherGeneration = [...parts.slice(0, 3), '7', parts[4]].join('.');
    const sent = jest.spyOn(redis, 'sendCommand');
    for (const value of ['garbage', 'sp1.a.b.c.d', forged, otherGeneration, `${stateProof}x`]) {
      const res = await renew(t.app, value);
      expect(res.body).toMatchObject({ error_code: 'JTS-401-03' });
    }
    // TIME is the Redis clock's own periodic re-measurement (src/redis/clock.ts), not the request's:
    // under CI load one fell inside this test once.
    const commands = sent.mock.calls.map(([command]) => (command as { name: string }).name).filter((name) => name !== 'time');
    expect(commands).toEqual([]);
    sent.mockRestore();
  });

  it('costs an unknown email the same time as a wrong password (medians within 25%)', async () => {
    // Cost 11 (~100 ms a hash) so bcrypt, not scheduling noise, dominates each sample: at cost 10 a
    // loaded CI machine measured 0.74 once. A skipped dummy hash would measure about 0.02.
    const timed = await buildTestApp({ store: 'redis', env: { BCRYPT_ROUNDS: '11' } });
    const u = await createUser(timed);
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      const res = await request(timed.app).post('/jts/login').set(CSRF).send({ email, password: 'not the password' });
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await time(u.email); // warm-up: the dummy hash and connections
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 15; i++) {
      unknown.push(await time(`missing-${i}@example.com`));
      wrong.push(await time(u.email));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1 / 0.75);
    await timed.close();
  });
});

describe('when Redis goes away', () => {
  let server: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await t.close();
    await server.destroy();
  });

  it('answers 503 service_unavailable with retry_after, stays up, and recovers by itself', async () => {
    t = await buildTestApp({ store: 'redis', redisUrl: server.url, env: { REDIS_COMMAND_TIMEOUT: '500' } });
    const user = await createUser(t);
    const creds = await login(t.app, user.email, user.password);

    await server.stop();
    const loginDown = await request(t.app).post('/jts/login').set(CSRF).send({ email: user.email, password: user.password });
    expect(loginDown.status).toBe(503);
    expect(loginDown.body).toMatchObject({ error: 'service_unavailable', action: 'retry', retry_after: expect.any(Number) });
    expect(loginDown.headers['retry-after']).toBeDefined();
    const renewDown = await renew(t.app, creds.stateProof);
    expect(renewDown.status).toBe(503);
    expect(renewDown.body).toMatchObject({ error: 'service_unavailable' });
    const profileDown = await request(t.app).get('/api/profile').set('Authorization', `Bearer ${creds.bearerPass}`);
    expect(profileDown.status).toBe(503);
    await expect(request(t.app).get('/readyz')).resolves.toMatchObject({ status: 503 });
    await expect(request(t.app).get('/healthz')).resolves.toMatchObject({ status: 200 });

    // The memory of the emptied Redis is gone with it; the user comes back through the store.
    await server.start();
    const deadline = Date.now() + 5_000;
    while (t.redis!.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await expect(request(t.app).get('/readyz')).resolves.toMatchObject({ status: 200 });
    const again = await createUser(t);
    await expect(login(t.app, again.email, again.password)).resolves.toBeDefined();
  });
});

describe('Redis commands per renewal', () => {
  let server: PrivateRedis;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.destroy();
  });

  /**
   * The commands clients sent while `step` ran (MONITOR; a script's own calls left out). EVAL and
   * EVALSHA both count as `script`: which one ioredis sends depends on what it loaded before.
   */
  async function commandsOf(redis: Redis, step: () => Promise<unknown>): Promise<Record<string, number>> {
    const monitor = await redis.monitor();
    const sent: Record<string, number> = {};
    const flush = { seen: false };
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = String(args[0]).toLowerCase();
      const command = name === 'eval' || name === 'evalsha' ? 'script' : name;
      if (name === 'echo' && args[1] === 'flush') flush.seen = true;
      // TIME is the Redis clock's own re-measurement (src/redis/clock.ts: at each `ready`, then on a
      // timer), sent whenever it falls due, not by the request: it landed in a renewal under load.
      else if (source !== 'lua' && name !== 'time') sent[command] = (sent[command] ?? 0) + 1;
    });
    await step();
    // MONITOR reports in order: once it reports this marker, it has reported everything before.
    await redis.echo('flush');
    while (!flush.seen) await new Promise((resolve) => setTimeout(resolve, 5));
    monitor.disconnect();
    return sent;
  }

  /** Two server instances on the private Redis, as behind a load balancer: same keys and secret. */
  async function twoInstances(keyPrefix: string): Promise<[TestApp, TestApp]> {
    const shared = { store: 'redis' as const, redisUrl: server.url, stateProofSecret: randomBytes(32), env: { REDIS_KEY_PREFIX: keyPrefix } };
    const pair: [TestApp, TestApp] = [await buildTestApp(shared), await buildTestApp(shared)];
    apps.push(...pair);
    return pair;
  }

  it('is one script call where the session was issued or last renewed, and one read of the session and the user mirror first (never SQL) anywhere else', async () => {
    const [issuer, other] = await twoInstances('rt:');
    const user = await createUser(issuer);
    let creds = await login(issuer.app, user.email, user.password);

    await expect(commandsOf(issuer.redis!, async () => (creds = await renewOk(issuer.app, creds.stateProof)))).resolves.toEqual({ script: 1 });
    await expect(commandsOf(issuer.redis!, async () => (creds = await renewOk(other.app, creds.stateProof)))).resolves.toEqual({ hmget: 2, script: 1 });
    await expect(commandsOf(issuer.redis!, async () => (creds = await renewOk(other.app, creds.stateProof)))).resolves.toEqual({ script: 1 });
    // What an instance remembers holds no generation, so the issuer's memory is still good.
    await expect(commandsOf(issuer.redis!, async () => (creds = await renewOk(issuer.app, creds.stateProof)))).resolves.toEqual({ script: 1 });
    // A user changed since: the script refuses without writing, and the renewal reads the store.
    await issuer.users.update(user.id, { permissions: ['read:profile', 'write:notes'] }, Date.now());
    await expect(commandsOf(issuer.redis!, async () => (creds = await renewOk(issuer.app, creds.stateProof)))).resolves.toEqual({ script: 2, hmget: 2 });
    const claims = JSON.parse(Buffer.from(creds.bearerPass.split('.')[1]!, 'base64url').toString()) as { perm: string[] };
    expect(claims.perm).toEqual(['read:profile', 'write:notes']);
  });

  it('refuses, and audits, a renewal on the issuer of a session another instance logged out', async () => {
    const [issuer, other] = await twoInstances('lo:');
    const user = await createUser(issuer);
    const creds = await login(issuer.app, user.email, user.password);
    await request(other.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${creds.stateProof}`).expect(200);
    const answer = await commandsOf(issuer.redis!, async () => {
      await expect(renew(issuer.app, creds.stateProof)).resolves.toMatchObject({ status: 401, body: { error_code: 'JTS-401-04' } });
    });
    expect(answer).toEqual({ script: 1 });
    expect(issuer.audits).toContainEqual(expect.objectContaining({ event: 'renew.rejected', reason: 'missing', prn: user.id }));
  });
});
