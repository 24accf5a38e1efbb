import type { RedisClient } from './connect.js';

/** Milliseconds since the epoch on Redis's clock (its `TIME`), as this process estimates it. */
export interface RedisTime {
  now(): number;
  /** How far behind Redis's clock `now()` may be (ms); undefined: taken as exact. */
  readonly uncertaintyMs?: number | undefined;
  /** A script said it ran late: the estimate may be off, measure again soon (optional). */
  recheck?(): void;
}

export interface RedisClockOptions {
  /** How often the offset is measured again while the client is connected. */
  intervalMs?: number;
  /**
   * A measurement's error is up to its round trip. One whose round trip took longer than this
   * and longer than the measurement in use does not replace it (a busy moment); one is always
   * taken while there is none.
   */
  maxRoundTripMs?: number;
  /** This host's clock, in ms since the epoch. Monotonic by default; tests inject their own. */
  hostNow?: () => number;
  /**
   * How soon a measurement looser than `maxRoundTripMs` is followed by another (default 250 ms),
   * rather than at the next interval: the first one is often taken while the process is still
   * busy starting, and its error makes every deadline come early (a needless 503 each time).
   */
  followUpMs?: number;
}

/**
 * This host's clock, never stepped: the wall clock at process start plus monotonic time since.
 * An NTP step or a manual change of this host's wall clock therefore never moves a deadline;
 * drift against Redis is taken up by the next measurement.
 */
const monotonicNow = (): number => performance.timeOrigin + performance.now();

const RECHECK_THROTTLE_MS = 1000;

/**
 * Redis's clock as seen from here: this host's clock plus an offset measured with `TIME` on every
 * `ready` of the client and every `intervalMs` after. Until the first measurement succeeds the
 * offset is 0 (this host's clock is taken for Redis's).
 *
 * Redis read its clock somewhere inside the round trip. The offset takes the end of the round
 * trip (not its midpoint), so the estimate is never ahead of Redis's clock, only up to one round
 * trip behind: a deadline computed on it can come early (a needless 503, after which a late
 * script asks for a new measurement) but never late. A midpoint would be off by up to half the
 * round trip either way, and a busy event loop before the command leaves puts it ahead.
 *
 * Deadlines that Lua scripts check against their own `TIME` are computed on this clock, so the
 * comparison never depends on the two hosts' wall clocks agreeing. In a Redis Cluster the
 * measurement reaches one node while a script runs on the node of its slot: the nodes' clocks
 * are assumed NTP-synchronised (as they are for key expiry).
 */
export class RedisClock implements RedisTime {
  private offset = 0;
  /** Round trip of the measurement in use; undefined before the first one. */
  private roundTrip: number | undefined;
  /** Host time (ms) of the measurement the offset came from. */
  private measuredAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;
  private readonly maxRoundTripMs: number;
  private readonly hostNow: () => number;
  private readonly followUpMs: number;
  private followUp: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: RedisClient,
    options: RedisClockOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.maxRoundTripMs = options.maxRoundTripMs ?? 100;
    this.hostNow = options.hostNow ?? monotonicNow;
    this.followUpMs = options.followUpMs ?? 250;
  }

  now(): number {
    return this.hostNow() + this.offset;
  }

  /** Redis's clock minus this host's, in ms (0 until measured). */
  get offsetMs(): number {
    return this.offset;
  }

  /** How far behind Redis's clock the estimate may be: the round trip of the measurement in use. */
  get uncertaintyMs(): number | undefined {
    return this.roundTrip;
  }

  get measured(): boolean {
    return this.roundTrip !== undefined;
  }

  /** Measures the offset once (single-flight). Never rejects: a failed measurement keeps the last one. */
  sync(): Promise<void> {
    this.syncing ??= this.measure().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  recheck(): void {
    const now = this.hostNow();
    if (now - this.lastAttempt < RECHECK_THROTTLE_MS) return;
    void this.sync();
  }

  /** Measures now if the client is ready, then on every `ready` and every `intervalMs`, until the client ends. */
  watch(): this {
    const onReady = () => {
      // A new connection may reach another node (a failover): its clock is measured afresh,
      // whatever the round trip to the old one was.
      this.roundTrip = undefined;
      void this.sync();
      if (this.timer === undefined) {
        this.timer = setInterval(() => void this.sync(), this.intervalMs);
        // Never what keeps a process (a CLI, a test) alive.
        this.timer.unref();
      }
    };
    this.client.on('ready', onReady);
    this.client.on('end', () => {
      clearInterval(this.timer);
      this.timer = undefined;
    });
    if (this.client.status === 'ready') onReady();
    return this;
  }

  private async measure(): Promise<void> {
    const sent = this.hostNow();
    this.lastAttempt = sent;
    let reply: unknown[];
    try {
      reply = await this.client.time();
    } catch {
      return;
    }
    const received = this.hostNow();
    const roundTrip = received - sent;
    // A slow round trip gives a loose estimate, kept out while a tighter one is recent; but an
    // estimate older than two intervals is replaced whatever the round trip, so a Redis that got
    // slower for good (a farther node) is never judged by a stale offset for ever.
    const stale = this.measuredAt === undefined || received - this.measuredAt > 2 * this.intervalMs;
    if (!stale && this.roundTrip !== undefined && roundTrip > Math.max(this.maxRoundTripMs, this.roundTrip)) return;
    const redisMs = Number(reply[0]) * 1000 + Number(reply[1]) / 1000;
    if (!Number.isFinite(redisMs)) return;
    this.offset = redisMs - received;
    this.roundTrip = roundTrip;
    this.measuredAt = received;
    if (roundTrip > this.maxRoundTripMs && this.followUp === undefined && this.client.status !== 'end') {
      this.followUp = setTimeout(() => {
        this.followUp = undefined;
        void this.sync();
      }, this.followUpMs);
      // Never what keeps a process (a CLI, a test) alive.
      this.followUp.unref();
    }
  }
}

const clocks = new WeakMap<RedisClient, RedisClock>();

/** The one watching RedisClock of a client, made on first use. */
export function redisClockFor(client: RedisClient): RedisClock {
  let clock = clocks.get(client);
  if (!clock) {
    clock = new RedisClock(client).watch();
    clocks.set(client, clock);
  }
  return clock;
}
