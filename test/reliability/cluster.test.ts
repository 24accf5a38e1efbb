import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { createClusterClient, waitForReady } from '../../src/redis/connect';
import { redisContractContext, sessionStoreContract } from '../sessions/contract';
import { CSRF, login, profile, renew, renewOk, stateProofFrom } from '../support/http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { RedisClusterProcesses, ROOT, redisBinariesPresent } from './support/processes';
import { built } from '../support/built';

/**
 * The same stores and scripts on a real 3-master Redis Cluster (redis-server --cluster-enabled,
 * made with redis-cli --cluster create). Redis refuses a script that touches a key of another
 * slot, so every test here that passes also proves "one user, one slot".
 */
const present = redisBinariesPresent();
if (!present) console.warn('SKIPPED test/reliability/cluster.test.ts: redis-server/redis-cli are not installed (apt-get install redis-server)');
const describeWithRedis = present ? describe : describe.skip;

describeWithRedis('Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterProcesses;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    client = createClusterClient(cluster.addresses, { commandTimeoutMs: 2000 });
    client.on('error', () => undefined);
    await waitForReady(client, 10_000);
    // A Cluster client connects to each node on its first command there, within half the command
    // timeout; on a loaded machine that first connect can fail ("Connection is closed"). Connect
    // every master before the suites, retrying, so their first store call is not that first connect.
    for (let attempt = 1; ; attempt++) {
      try {
        await Promise.all(client.nodes('master').map((node) => node.ping()));
        break;
      } catch (error) {
        if (attempt === 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }, 60_000);

  afterAll(async () => {
    await client.quit();
    await cluster.destroy();
  });

  sessionStoreContract('redis cluster', () => Promise.resolve(redisContractContext(client)));

  /** Every key under `prefix`, by the master that holds it (SCAN on each node). */
  async function keysByNode(prefix: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const node of client.nodes('master')) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      out.set(`${node.options.host ?? ''}:${node.options.port ?? 0}`, keys);
    }
    return out;
  }

  describe('the HTTP flow on a cluster', () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await buildTestApp({ redis: client });
    });
    afterEach(async () => {
      await t.close();
    });

    it('logs in, renews, answers a replay with JTS-401-05, and logs out', async () => {
      const user = await createUser(t);
      const first = await login(t.app, user.email, user.password);
      expect((await profile(t.app, first.bearerPass)).status).toBe(200);
      const second = await renewOk(t.app, first.stateProof);
      // A step-up (step-up-2.lua: the session and the user's mirror, one slot) on the same chain.
      await request(t.app).post('/jts/reauth').set(CSRF).set('Authorization', `Bearer ${second.bearerPass}`).send({ password: user.password }).expect(200);
      const third = await renewOk(t.app, second.stateProof);
      expect((await profile(t.app, third.bearerPass)).status).toBe(200);

      t.clock.advance(11_000);
      const replay = await renew(t.app, first.stateProof);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ error_code: 'JTS-401-05' });
      expect((await profile(t.app, third.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-05' });

      const again = await login(t.app, user.email, user.password);
      const logout = await request(t.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${again.stateProof}`);
      expect(logout.status).toBe(200);
      expect((await profile(t.app, again.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-04' });
      expect((await renew(t.app, again.stateProof)).body).toMatchObject({ error_code: 'JTS-401-04' });
    });

    it('never forks a session: concurrent renewals with one StateProof rotate once', async () => {
      const user = await createUser(t);
      const { stateProof } = await login(t.app, user.email, user.password);
      const answers = await Promise.all(Array.from({ length: 16 }, () => renew(t.app, stateProof)));
      expect(answers.map((a) => a.status)).toEqual(Array(16).fill(200));
      expect(new Set(answers.map((a) => stateProofFrom(a))).size).toBe(1);
    });

    it('keeps all of a user\'s session keys on one node, and spreads users over the masters', async () => {
      const prefix = t.config.redis.keyPrefix;
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const user = await createUser(t);
        ids.push(user.id);
        const creds = await login(t.app, user.email, user.password);
        await renewOk(t.app, creds.stateProof);
        await login(t.app, user.email, user.password);
      }
      const byNode = await keysByNode(prefix);
      for (const id of ids) {
        const holders = [...byNode.entries()].filter(([, keys]) => keys.some((key) => key.startsWith(`${prefix}{u:${id}}`)));
        expect(holders).toHaveLength(1);
        // user hash, 2 session hashes, 1 grace slot, the session index
        expect(holders[0]![1].filter((key) => key.startsWith(`${prefix}{u:${id}}`))).toHaveLength(5);
      }
      expect([...byNode.values()].filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
    });

    it('revokes every session of the principal on replay, atomically, in one slot', async () => {
      const p = await buildTestApp({ redis: client, env: { JTS_REPLAY_REVOKE: 'principal' } });
      const user = await createUser(p);
      const victim = await login(p.app, user.email, user.password);
      const sibling = await login(p.app, user.email, user.password);
      await renewOk(p.app, victim.stateProof);
      p.clock.advance(11_000);
      expect((await renew(p.app, victim.stateProof)).body).toMatchObject({ error_code: 'JTS-401-05' });
      expect((await profile(p.app, sibling.bearerPass)).body).toMatchObject({ error_code: 'JTS-401-05' });
      await p.close();
    });

    it('publishes every ending after its script (the stream is in another slot) and serves it through the one-connection tail', async () => {
      const p = await buildTestApp({ redis: client, env: { JTS_REPLAY_REVOKE: 'principal' } });
      try {
        const received: string[] = [];
        const subscribed = await p.events.subscribe('cluster-test', undefined, { events: (events) => received.push(...events.map((e) => e.id)), ready: () => Promise.resolve(), keepalive: () => undefined, end: () => undefined });
        if (subscribed.outcome !== 'subscribed') throw new Error('not subscribed');
        void subscribed.subscription.start();
        const user = await createUser(p);
        const victim = await login(p.app, user.email, user.password);
        const sibling = await login(p.app, user.email, user.password);
        await renewOk(p.app, victim.stateProof);
        p.clock.advance(11_000);
        expect((await renew(p.app, victim.stateProof)).body).toMatchObject({ error_code: 'JTS-401-05' });
        const other = await login(p.app, user.email, user.password);
        await request(p.app).post('/jts/logout').set(CSRF).set('Cookie', `jts_state_proof=${other.stateProof}`);
        const { events } = await p.events.poll(undefined, 1000);
        const jwks = createLocalJWKSet(p.keyRing.jwks());
        const ours = [];
        for (const event of events) {
          const { payload } = await jwtVerify(event.set, jwks, { typ: 'secevent+jwt', issuer: p.config.jts.issuer });
          const subject = payload.sub_id as { user: { id: string }; session: { id: string } };
          const revoked = (payload.events as Record<string, { reason_admin: { en: string } }>)['https://schemas.openid.net/secevent/caep/event-type/session-revoked'];
          if (subject.user.id === user.id) ours.push(`${subject.session.id}:${revoked?.reason_admin.en ?? ''}`);
        }
        const aid = (stateProof: string) => stateProof.split('.')[2] ?? '';
        expect(ours.sort()).toEqual([`${aid(victim.stateProof)}:replay_detected`, `${aid(sibling.stateProof)}:replay_detected`, `${aid(other.stateProof)}:logout`].sort());
        const deadline = Date.now() + 5000;
        while (received.length < events.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toEqual(events.map((e) => e.id));
      } finally {
        await p.close();
      }
    });

    it('counts rate limits in the cluster (the counter script is loaded on every master)', async () => {
      const limited = await buildTestApp({ redis: client, env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_ACCOUNT: '3/15m', RATE_LIMIT_LOGIN_IP: '100000/1m' } });
      // Several accounts, so the counters land in different slots (and on different masters).
      for (let i = 0; i < 6; i++) {
        const email = `rl${i}-${randomBytes(4).toString('hex')}@example.com`;
        const statuses: number[] = [];
        for (let j = 0; j < 4; j++) {
          statuses.push((await request(limited.app).post('/jts/login').set(CSRF).send({ email, password: 'wrong password' })).status);
        }
        expect(statuses).toEqual([401, 401, 401, 429]);
      }
      expect(limited.logLines.join('')).not.toMatch(/NOSCRIPT/);
      await limited.close();
    });
  });

  it('lets `npm run user` manage users on a cluster (REDIS_CLUSTER_NODES)', async () => {
    const prefix = `cli${randomBytes(3).toString('hex')}:`;
    const t = await buildTestApp({ redis: client, accounts: 'postgres', env: { REDIS_KEY_PREFIX: prefix } });
    const user = await createUser(t);
    const databaseUrl = t.databaseUrl ?? '';
    await t.close();
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [built('cli/user'), 'list'],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: databaseUrl, REDIS_KEY_PREFIX: prefix, REDIS_CLUSTER_NODES: cluster.addresses.map((a) => `${a.host}:${a.port}`).join(',') } },
        (error, stdout, stderr) => {
          done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
        },
      );
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(user.email);
  }, 30_000);
});
