import { hashClientSecret, secretMatches } from '../accounts/client-secret.js';
import type { ServiceClient } from '../accounts/sql-client-store.js';
import { randomBase64url } from '../jts/random.js';
import { StoreError, STORE_RETRY_AFTER_SECONDS } from '../redis/store-error.js';

export interface ClientDirectoryOptions {
  /** Reads every client (SqlClientStore.list). */
  load: () => Promise<ServiceClient[]>;
  /** How often the snapshot is reloaded (JTS_CLIENTS_REFRESH). */
  refreshMs: number;
  /**
   * A snapshot older than this (the database unreachable for that long) is not trusted: client
   * authentication answers 503 rather than honour a client disabled in the meantime. Measured on
   * the monotonic clock: it is about real time since the database answered.
   */
  maxStaleMs: number;
  /** The server's clock, for rotation deadlines (milliseconds since the epoch). */
  now: () => number;
  onRefreshError: (error: unknown) => void;
}

export type ClientAuthentication = { ok: true; client: ServiceClient } | { ok: false; reason: 'unknown_client' | 'wrong_secret' | 'disabled' };

/** Compared against when the client is unknown or has no previous secret, so every attempt does the same work. */
const DUMMY_HASH = hashClientSecret(randomBase64url(32));

/**
 * The registered service clients, held in memory and reloaded from PostgreSQL every
 * `refreshMs` (default 30 s). So /jts/token and /jts/introspect never wait on SQL, and an
 * unknown client id costs no query (no way to load the database with made-up ids). The price: a
 * client added, disabled or rotated on another instance or by the CLI is seen here within one
 * refresh; this server's own changes call `refresh()` at once.
 */
export class ClientDirectory {
  private byId = new Map<string, ServiceClient>();
  private byAudience = new Map<string, ServiceClient>();
  private loadedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: ClientDirectoryOptions) {}

  /** Loads now and then every `refreshMs`; the timer never keeps the process alive. */
  start(): Promise<void> {
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.refresh().catch(this.options.onRefreshError);
      }, this.options.refreshMs);
      this.timer.unref();
    }
    return this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reloads every client; concurrent calls share one query. */
  refresh(): Promise<void> {
    this.inFlight ??= this.options
      .load()
      .then((clients) => {
        this.byId = new Map(clients.map((client) => [client.id, client]));
        this.byAudience = new Map(clients.map((client) => [client.audience, client]));
        this.loadedAt = performance.now();
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /**
   * Checks a client id and secret (RFC 6749 §2.3.1). An unknown id, a wrong secret and a right
   * one cost the same: two constant-time digest comparisons each (current secret, and the
   * previous one of an open rotation or a dummy), whatever the outcome. A disabled client is
   * reported as such only after its secret proved right.
   */
  authenticate(id: string, secret: string): ClientAuthentication {
    const client = this.fresh().get(id);
    const now = this.options.now();
    const previousValid = client?.previousSecretHash !== undefined && (client.previousSecretExpiresAt ?? 0) > now;
    const current = secretMatches(secret, client?.secretHash ?? DUMMY_HASH);
    const previous = secretMatches(secret, previousValid ? (client.previousSecretHash ?? DUMMY_HASH) : DUMMY_HASH);
    if (client === undefined) return { ok: false, reason: 'unknown_client' };
    if (!current && !(previousValid && previous)) return { ok: false, reason: 'wrong_secret' };
    if (client.disabled) return { ok: false, reason: 'disabled' };
    return { ok: true, client };
  }

  /** The enabled client with this id, if any (introspection of client-credentials tokens). */
  findEnabled(id: string): ServiceClient | undefined {
    const client = this.fresh().get(id);
    return client === undefined || client.disabled ? undefined : client;
  }

  /** The enabled client whose audience this is (a token-exchange target), if any. */
  findByAudience(audience: string): ServiceClient | undefined {
    this.fresh();
    const client = this.byAudience.get(audience);
    return client === undefined || client.disabled ? undefined : client;
  }

  private fresh(): Map<string, ServiceClient> {
    if (performance.now() - this.loadedAt > this.options.maxStaleMs) {
      throw new StoreError('service_unavailable', { retryAfter: STORE_RETRY_AFTER_SECONDS, message: 'The client registry cannot be read right now.' });
    }
    return this.byId;
  }
}
