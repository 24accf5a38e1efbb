import { Cluster } from 'ioredis';
import type { RedisTime } from '../redis/clock.js';
import type { RedisClient } from '../redis/connect.js';
import { guardStore } from '../redis/guard.js';
import { compareStreamIds, decodeEventEntry, type EventPage, type EventRetention, type SecurityEventLog, type SecurityEventRecord } from './security-events.js';

type Entries = [id: string, fields: string[]][];

/** XINFO STREAM's answer (a flat list of names and values), as much as the feed needs. */
interface StreamInfo {
  first: string | undefined;
  lastGenerated: string;
  /** Entries ever added, minus those still there: trimmed (or deleted) ones. */
  removed: number;
}

/**
 * The security-event stream in Redis (key: redis-keys.ts `securityEvents`), written by the session
 * scripts. Reads use the shared client; the blocking tail uses one connection of its own,
 * duplicated lazily, whose command timeout covers the block: one per instance, however many
 * subscribers the feed fans out to.
 *
 * A gap is the wire format's rule: the requested id is older than the oldest retained entry, and
 * entries were trimmed (Redis keeps no "newest trimmed id": `max-deleted-entry-id` counts XDEL
 * only). A subscriber whose last entry was trimmed while the next was kept is told of a gap that
 * lost nothing; one whose missed entries were trimmed is never not told. Needs Redis ≥ 7.0
 * (`entries-added`).
 */
export class RedisEventLog implements SecurityEventLog {
  private reader: RedisClient | undefined;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly stream: string,
    private readonly retention: EventRetention,
    private readonly redisTime: RedisTime,
    private readonly commandTimeoutMs: number,
  ) {}

  read(after: string | undefined, limit: number): Promise<EventPage> {
    return guardStore(async () => {
      const [entries, info] = await Promise.all([this.redis.xrange(this.stream, after === undefined ? '-' : `(${after}`, '+', 'COUNT', limit), this.info()]);
      const oldest = info?.first ?? info?.lastGenerated;
      const gap = after !== undefined && info !== undefined && info.removed > 0 && oldest !== undefined && compareStreamIds(after, oldest) < 0;
      return { events: decodeAll(entries), gap, oldest };
    });
  }

  newestId(): Promise<string> {
    return guardStore(async () => (await this.info())?.lastGenerated ?? '0-0');
  }

  tail(cursor: string, limit: number, timeoutMs: number): Promise<SecurityEventRecord[]> {
    return guardStore(async () => {
      const reply = await this.readerClient(timeoutMs).xread('COUNT', limit, 'BLOCK', timeoutMs, 'STREAMS', this.stream, cursor);
      return decodeAll(reply?.[0]?.[1] ?? []);
    });
  }

  trim(): Promise<void> {
    return guardStore(async () => {
      await this.redis.xtrim(this.stream, 'MINID', '~', String(Math.round(this.redisTime.now()) - this.retention.retentionMs));
    });
  }

  close(): void {
    this.closed = true;
    this.reader?.disconnect();
  }

  /** The blocking connection: the shared client's settings, with a command timeout above the block. */
  private readerClient(blockMs: number): RedisClient {
    if (this.closed) throw new Error('the event log is closed');
    if (this.reader) return this.reader;
    const commandTimeout = blockMs + this.commandTimeoutMs;
    const reader = this.redis instanceof Cluster ? this.redis.duplicate(undefined, { redisOptions: { ...this.redis.options.redisOptions, commandTimeout } }) : this.redis.duplicate({ commandTimeout });
    // Its failures are the tail's (retried by the feed); the shared client's health log covers Redis.
    reader.on('error', () => undefined);
    this.reader = reader;
    return reader;
  }

  private async info(): Promise<StreamInfo | undefined> {
    let flat: unknown;
    try {
      flat = await this.redis.xinfo('STREAM', this.stream);
    } catch (error: unknown) {
      // No stream yet: nothing was ever published (or all of it expired with the key).
      if (error instanceof Error && /^ERR no such key/i.test(error.message)) return undefined;
      throw error;
    }
    const fields = new Map<string, unknown>();
    const list = flat as unknown[];
    for (let i = 0; i + 1 < list.length; i += 2) fields.set(String(list[i]), list[i + 1]);
    const first = fields.get('first-entry') as [string, string[]] | null | undefined;
    const lastGenerated = fields.get('last-generated-id');
    return {
      first: first?.[0] ?? undefined,
      lastGenerated: typeof lastGenerated === 'string' ? lastGenerated : '0-0',
      removed: Number(fields.get('entries-added') ?? 0) - Number(fields.get('length') ?? 0),
    };
  }
}

function decodeAll(entries: Entries): SecurityEventRecord[] {
  return entries.flatMap(([id, fields]) => decodeEventEntry(id, fields) ?? []);
}

