import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/jts/clock';
import { createRedisClient, waitForReady } from '../../src/redis/connect';
import { redisKeys } from '../../src/sessions/redis-keys';
import { RedisSessionStore } from '../../src/sessions/redis-store';
import { redisContractContext, sessionStoreContract } from '../sessions/contract';
import { waitFor } from '../support/redis-server';
import { RedisProcess, SentinelProcess, redisBinariesPresent } from './support/processes';

/**
 * Sentinel mode (REDIS_SENTINELS + REDIS_SENTINEL_NAME): a master, a replica and one Sentinel.
 * The store contract runs through the Sentinel-resolved client, then a forced failover moves
 * the master while sessions live on.
 */
const present = redisBinariesPresent();
if (!present) console.warn('SKIPPED test/reliability/sentinel.test.ts: redis-server/redis-cli are not installed (apt-get install redis-server)');
const describeWithRedis = present ? describe : describe.skip;

const NAME = 'jtsmaster';

describeWithRedis('Redis through Sentinel', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let sentinel: SentinelProcess;
  let client: Redis;
  let admin: Redis;

  beforeAll(async () => {
    master = await RedisProcess.start(['--repl-diskless-sync-delay', '0']);
    replica = await RedisProcess.start(['--replicaof', '127.0.0.1', String(master.port)]);
    sentinel = await SentinelProcess.start(NAME, { host: '127.0.0.1', port: master.port });
    const direct = master.client();
    await waitFor(async () => ((await direct.info('replication')).includes('state=online')), 20_000, 100);
    direct.disconnect();
    admin = new Redis({ host: '127.0.0.1', port: sentinel.port, maxRetriesPerRequest: 1 });
    admin.on('error', () => undefined);
    // The sentinel has found the replica (it needs one to fail over to).
    await waitFor(async () => {
      const replicas = (await admin.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
      return replicas.some((fields) => fields.join(' ').includes('flags slave') && !fields.join(' ').includes('s_down'));
    }, 20_000, 200);
    client = createRedisClient({ sentinels: [{ host: '127.0.0.1', port: sentinel.port }], sentinelName: NAME, commandTimeoutMs: 1000 });
    client.on('error', () => undefined);
    await waitForReady(client, 10_000);
  }, 60_000);

  afterAll(async () => {
    client.disconnect();
    admin.disconnect();
    await sentinel.destroy();
    await replica.destroy();
    await master.destroy();
  });

  sessionStoreContract('redis via sentinel', () => Promise.resolve(redisContractContext(client)));

  it('follows a failover to the new master: sessions live on, commands in between fail fast', async () => {
    const clock = new ManualClock(Date.now());
    const store = new RedisSessionStore(client, redisKeys(`f${randomBytes(4).toString('hex')}:`));
    const prn = randomBytes(16).toString('base64url');
    const aid = randomBytes(16).toString('base64url');
    const rotate = (presented: number) =>
      store.rotate({ prn, aid, presented, sealedBearerPass: `sealed-${presented}`, now: clock.now(), graceMs: 10_000, tombstoneMs: 60_000, replayRevoke: 'session' });
    await store.create({ prn, aid, createdAt: clock.now(), device: 'd', ipPrefix: 'ip', deviceHash: undefined, amr: ['pwd'], credentialEpoch: 0 }, { policy: { kind: 'allow_all' }, lifetimeMs: 3_600_000, now: clock.now() });
    await expect(rotate(1)).resolves.toEqual({ outcome: 'rotated', generation: 2 });
    // Acknowledged by the replica before the switch (production: min-replicas-to-write / WAIT).
    await expect(client.call('WAIT', '1', '900')).resolves.toBe(1);

    expect(client.stream.remotePort).toBe(master.port);
    await admin.call('SENTINEL', 'FAILOVER', NAME);

    // Reads until the client has followed the switch. No writes meanwhile: replication is
    // asynchronous, so a rotation the old master acknowledged after the promotion is lost; the
    // client then holds a StateProof ahead of the store, which the rotate script answers with
    // "missing" (JTS-401-04: sign in again) — a lost session, never a forked one.
    const failures: number[] = [];
    await waitFor(async () => {
      const started = Date.now();
      try {
        await store.state(prn, aid);
        return client.stream.remotePort === replica.port;
      } catch {
        failures.push(Date.now() - started);
        return false;
      }
    }, 20_000, 100);
    await expect(rotate(2)).resolves.toEqual({ outcome: 'rotated', generation: 3 });
    const generation = 3;

    // Whatever failed during the switch failed within the command timeout, and the session is whole.
    for (const ms of failures) expect(ms).toBeLessThan(1500);
    await expect(store.state(prn, aid)).resolves.toMatchObject({ state: 'active', generation });
    const [, port] = (await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string];
    expect(Number(port)).toBe(replica.port);
  }, 40_000);
});
