/**
 * What the scale bench reads of memory: Redis's used_memory and key count, MEMORY USAGE of sample
 * keys, a census of every key's TTL (SCAN, which also drops expired keys it touches), and the size
 * of PostgreSQL's users table with its indexes.
 */
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { median } from './stats.js';

export interface RedisMemoryPoint {
  /** used_memory minus mem_clients_normal: client buffers are not data. */
  usedMemory: number;
  keys: number;
}

export async function redisMemory(client: Redis): Promise<RedisMemoryPoint> {
  const info = await client.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return { usedMemory: field('used_memory') - field('mem_clients_normal'), keys: await client.dbsize() };
}

export interface KeyUsage {
  sampled: number;
  median: number;
  mean: number;
}

/** MEMORY USAGE (SAMPLES 0: every field counted) of each key; keys that are gone are left out. */
export async function memoryUsage(client: Redis, keys: readonly string[]): Promise<KeyUsage> {
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  const sizes = ((await pipeline.exec()) ?? []).flatMap(([error, value]) => (error === null && typeof value === 'number' ? [value] : []));
  return { sampled: sizes.length, median: median(sizes), mean: sizes.reduce((sum, size) => sum + size, 0) / Math.max(1, sizes.length) };
}

/** The kinds of key the server writes (sessions/redis-keys.ts), told apart by their suffix. */
export type KeyKind = 'session' | 'grace' | 'index' | 'mirror' | 'rate-limit' | 'events' | 'other';

export function keyKind(key: string): KeyKind {
  if (/\}:s:[^:]+$/.test(key)) return 'session';
  if (/\}:g:[^:]+$/.test(key)) return 'grace';
  if (key.endsWith('}:sessions')) return 'index';
  if (key.endsWith('}:user')) return 'mirror';
  if (key.includes('rl:')) return 'rate-limit';
  // The security-event stream (`<prefix>events`, in no user's slot): trimmed by age, no TTL by design.
  if (!key.includes('{') && key.endsWith('events')) return 'events';
  return 'other';
}

export interface TtlCensus {
  /** Per kind: keys, keys without a TTL (TTL -1), and up to 5 of the latter. */
  kinds: Partial<Record<KeyKind, { keys: number; withoutTtl: number; examples: string[] }>>;
  durationS: number;
}

/** Every key once (SCAN COUNT 1000, TTL pipelined per batch): how many have no TTL, by kind. */
export async function ttlCensus(client: Redis): Promise<TtlCensus> {
  const startedAt = process.hrtime.bigint();
  const kinds: TtlCensus['kinds'] = {};
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.pttl(key);
    const ttls = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => {
      const ttl = ttls[i]?.[1];
      // -2: expired or deleted between SCAN and PTTL; not a key any more.
      if (ttl === -2) return;
      const kind = keyKind(key);
      const entry = (kinds[kind] ??= { keys: 0, withoutTtl: 0, examples: [] });
      entry.keys++;
      if (ttl === -1) {
        entry.withoutTtl++;
        if (entry.examples.length < 5) entry.examples.push(key);
      }
    });
  } while (cursor !== '0');
  return { kinds, durationS: Number(process.hrtime.bigint() - startedAt) / 1e9 };
}

export interface TableSize {
  rows: number;
  /** pg_total_relation_size: heap, TOAST and every index. */
  totalBytes: number;
  heapBytes: number;
  indexBytes: number;
  indexes: Record<string, number>;
}

/** The users table as PostgreSQL stores it, after VACUUM ANALYZE (what autovacuum would reach). */
export async function usersTableSize(client: pg.ClientBase): Promise<TableSize> {
  await client.query('VACUUM ANALYZE users');
  const sizes = await client.query<{ rows: string; total: string; heap: string; idx: string }>(
    `SELECT (SELECT count(*) FROM users) AS rows, pg_total_relation_size('users') AS total, pg_relation_size('users') AS heap, pg_indexes_size('users') AS idx`,
  );
  const indexes = await client.query<{ name: string; bytes: string }>(`SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index WHERE indrelid = 'users'::regclass`);
  const row = sizes.rows[0]!;
  return {
    rows: Number(row.rows),
    totalBytes: Number(row.total),
    heapBytes: Number(row.heap),
    indexBytes: Number(row.idx),
    indexes: Object.fromEntries(indexes.rows.map((index) => [index.name, Number(index.bytes)])),
  };
}
