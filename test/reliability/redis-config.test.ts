import { Cluster, Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load';
import { connectRedis, describeRedis } from '../../src/redis/connect';

/** REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES: parsed, checked, and turned into the right client. */
describe('Redis topology settings', () => {
  const base = { NODE_ENV: 'test' };

  it('parses host:port lists, IPv6 in brackets included', () => {
    const config = loadConfig({ ...base, REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001,[::1]:7002 ', REDIS_PASSWORD: 'pw' });
    expect(config.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config.redis.password).toBe('pw');
    const sentinel = loadConfig({ ...base, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(sentinel.redis).toMatchObject({ sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], sentinelName: 'mymaster', clusterNodes: [] });
  });

  it.each([
    ['a port out of range', { REDIS_CLUSTER_NODES: 'a:70000' }, /REDIS_CLUSTER_NODES/],
    ['a missing port', { REDIS_CLUSTER_NODES: 'a' }, /REDIS_CLUSTER_NODES/],
    ['a URL instead of host:port', { REDIS_SENTINELS: 'redis://a:1' }, /REDIS_SENTINELS/],
    ['two ways to reach Redis', { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, /set only one way/],
    ['sentinels without a master name', { REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_NAME/],
  ])('refuses %s, naming the variable', (_name, env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  it('lets production run on a Cluster or Sentinel (not only REDIS_URL)', () => {
    const production = { NODE_ENV: 'production', JTS_COOKIE_SECURE: 'true', BCRYPT_ROUNDS: '12', CORS_ORIGINS: 'none', DATABASE_URL: 'postgres://jts@127.0.0.1:5432/jts', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' };
    expect(() => loadConfig(production)).toThrow(/production needs Redis/);
    expect(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'a:7000' }).redis.clusterNodes).toHaveLength(1);
    expect(loadConfig({ ...production, REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' }).redis.sentinels).toHaveLength(1);
  });

  it('builds the client the settings ask for, and describes it without secrets', () => {
    const none = loadConfig(base);
    expect(connectRedis(none.redis)).toBeUndefined();

    const cluster = loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' });
    const clusterClient = connectRedis(cluster.redis);
    expect(clusterClient).toBeInstanceOf(Cluster);
    clusterClient?.on('error', () => undefined);
    clusterClient?.disconnect();
    expect(describeRedis(cluster.redis)).toBe('cluster 127.0.0.1:1,127.0.0.1:2');

    const url = loadConfig({ ...base, REDIS_URL: 'redis://user:secret@127.0.0.1:1/2' });
    const single = connectRedis(url.redis);
    expect(single).toBeInstanceOf(Redis);
    expect((single as Redis).options).toMatchObject({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000, enableAutoPipelining: true });
    single?.on('error', () => undefined);
    single?.disconnect();
    expect(describeRedis(url.redis)).toBe('redis://127.0.0.1:1/2');
    expect(describeRedis(url.redis)).not.toContain('secret');

    const sentinel = loadConfig({ ...base, REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: 'secret' });
    const viaSentinel = connectRedis(sentinel.redis);
    expect(viaSentinel).toBeInstanceOf(Redis);
    expect((viaSentinel as Redis).options).toMatchObject({ name: 'm', enableOfflineQueue: false, maxRetriesPerRequest: 0, password: 'secret' });
    viaSentinel?.on('error', () => undefined);
    viaSentinel?.disconnect();
    expect(describeRedis(sentinel.redis)).toBe('sentinel m via 127.0.0.1:1');
  });
});
