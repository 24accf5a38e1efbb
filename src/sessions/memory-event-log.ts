import type { Clock } from '../jts/clock.js';
import { compareStreamIds, type EventPage, type EventRetention, type NewSecurityEvent, type SecurityEventLog, type SecurityEventRecord } from './security-events.js';

/**
 * The security-event stream of the memory session store: the Redis stream's behaviour (ids
 * `<ms>-<seq>`, trimming by age, the same gap rule) in one process, so the
 * feed works with `npm start` and nothing installed. Appends happen inside the store's
 * synchronous methods: atomic with the revocation, as the Redis scripts are.
 */
export class MemoryEventLog implements SecurityEventLog {
  private entries: SecurityEventRecord[] = [];
  private last = { ms: 0, seq: 0 };
  private trimmed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    readonly retention: EventRetention,
  ) {}

  /** Appends events with ids as XADD * would give them; `at` and `notAfter` come from the caller. */
  append(events: readonly NewSecurityEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      const ms = Math.max(this.clock.now(), this.last.ms);
      this.last = { ms, seq: ms === this.last.ms ? this.last.seq + 1 : 0 };
      this.entries.push({ ...event, id: `${ms}-${this.last.seq}` });
    }
    this.trimOlderThan(this.clock.now() - this.retention.retentionMs);
    for (const wake of this.waiters) wake();
  }

  read(after: string | undefined, limit: number): Promise<EventPage> {
    const start = after === undefined ? 0 : this.entries.findIndex((e) => compareStreamIds(e.id, after) > 0);
    const events = start < 0 ? [] : this.entries.slice(start, start + limit);
    // The wire format's rule, as RedisEventLog applies it: older than the oldest retained entry, once any was trimmed.
    const oldest = this.entries[0]?.id ?? `${this.last.ms}-${this.last.seq}`;
    const gap = after !== undefined && this.trimmed && compareStreamIds(after, oldest) < 0;
    return Promise.resolve({ events, gap, oldest });
  }

  newestId(): Promise<string> {
    return Promise.resolve(this.entries.at(-1)?.id ?? `${this.last.ms}-${this.last.seq}`);
  }

  async tail(cursor: string, limit: number, timeoutMs: number): Promise<SecurityEventRecord[]> {
    const ready = (await this.read(cursor, limit)).events;
    if (ready.length > 0) return ready;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
    return (await this.read(cursor, limit)).events;
  }

  trim(): Promise<void> {
    this.trimOlderThan(this.clock.now() - this.retention.retentionMs);
    return Promise.resolve();
  }

  close(): void {
    for (const wake of this.waiters) wake();
  }

  private trimOlderThan(ms: number): void {
    const keep = this.entries.findIndex((e) => Number(e.id.split('-')[0]) >= ms);
    const dropped = keep < 0 ? this.entries.length : keep;
    if (dropped === 0) return;
    this.trimmed = true;
    this.entries = this.entries.slice(dropped);
  }
}
