import type { Logger } from 'pino';
import type { AppDeps } from './app.js';
import { JTSAuthServer } from './auth/auth-server.js';
import type { SqlClientStore } from './accounts/sql-client-store.js';
import { ClientAdministration, type ClientAdministrationDeps } from './auth/client-admin.js';
import { ClientDirectory } from './auth/client-directory.js';
import { boundedHasher } from './auth/hashing-gate.js';
import { Introspection } from './auth/introspection.js';
import { OAuthGrants } from './auth/oauth-grants.js';
import { MirroredUserStore } from './auth/mirrored-users.js';
import type { AuditSink } from './auth/audit.js';
import { JTSResourceServer } from './auth/resource-server.js';
import { UserAdministration } from './auth/user-administration.js';
import type { Config } from './config/load.js';
import { deriveKnownDeviceKey } from './http/middleware/known-device.js';
import { createBearerPassIssuer } from './jts/bearer-pass/mint.js';
import { createBearerPassVerifier } from './jts/bearer-pass/verify.js';
import type { Clock } from './jts/clock.js';
import type { KeyRing } from './jts/key-ring.js';
import { StateProofCodec } from './jts/state-proof.js';
import { countingAudit, createMetrics } from './observability/metrics.js';
import type { RedisClient } from './redis/connect.js';
import { memoryRateLimitStores, redisRateLimitStores, windowCounter } from './redis/rate-limit-store.js';
import { MemoryEndedSessions, RedisEndedSessions } from './sessions/ended-sessions.js';
import { MemorySessionStore } from './sessions/memory-store.js';
import { redisKeys, type RedisKeys } from './sessions/redis-keys.js';
import type { EventRetention, SecurityEventLog } from './sessions/security-events.js';
import { RedisSessionStore } from './sessions/redis-store.js';
import { RedisEventLog } from './sessions/redis-event-log.js';
import { MemoryEventLog } from './sessions/memory-event-log.js';
import { redisClockFor } from './redis/clock.js';
import { EventFeed } from './auth/event-feed.js';
import { createSecurityEventSigner } from './jts/security-event-token.js';
import type { SessionStore } from './sessions/types.js';
import { MemoryUserStore } from './users/memory-store.js';
import { createPasswordHasher, type PasswordHasher } from './users/password.js';
import type { UserStore } from './users/types.js';
import type { Registry } from 'prom-client';
import { BackgroundWork } from './auth/background.js';
import { deriveCodeKey } from './auth/challenge-secrets.js';
import { DevOutbox } from './mail/outbox.js';
import { MailSender } from './mail/sender.js';
import { NoticeMailer } from './mail/notices.js';
import { SqlNoticeOutbox } from './mail/notice-outbox.js';
import { OutboxPurge } from './accounts/outbox-purge.js';
import { smtpTransport } from './mail/transport.js';
import type { ChallengeStore } from './users/challenges.js';
import { MemoryChallengeStore } from './users/memory-challenges.js';
import { deriveFactorKey } from './auth/factor-secrets.js';
import type { SecondFactorStore } from './users/factors.js';
import { MemorySecondFactorStore } from './users/memory-factors.js';
import { MemoryPasskeyStore } from './users/memory-passkeys.js';
import type { PasskeyStore } from './users/passkeys.js';
import { deriveSignInDeviceKey, NOTICE_WINDOW_MS, withNotMeLink, type NotMeLinkDeps } from './auth/sign-in-notices.js';
import { withUndoLink } from './auth/account-email.js';
import { THEFT_ALERT_WINDOW_MS } from './auth/theft-alerts.js';
import { MemorySignInDeviceStore } from './users/memory-sign-in-devices.js';
import type { SignInDeviceStore } from './users/sign-in-devices.js';
import type { Kysely } from 'kysely';
import type { AccountsSchema } from './accounts/database.js';
import { Webhooks } from './webhooks/webhooks.js';
import { shownUrl } from './config/webhooks.js';

export interface ServiceInputs {
  config: Config;
  keyRing: KeyRing;
  stateProofSecret: Buffer;
  clock: Clock;
  logger: Logger;
  /** Present when sessions live in Redis; absent means the in-memory session store. */
  redis?: RedisClient;
  /**
   * The accounts database's stores (PostgreSQL or PGlite, accounts/open.ts), all or none. Absent
   * (tests of other parts): users, challenges and second factors in memory, no service client.
   */
  accounts?: { users: UserStore; clients: SqlClientStore; challenges: ChallengeStore; factors: SecondFactorStore; passkeys: PasskeyStore; signInDevices?: SignInDeviceStore };
  /** The accounts database itself: the webhook outbox lives there (required when Config.webhooks is set). */
  accountsDb?: Kysely<AccountsSchema>;
  audit: AuditSink;
  /** Extra readiness conditions (e.g. "not shutting down"). */
  isShuttingDown?: () => boolean;
  /** See AuthServerDeps.renewFactsCapacity; tests set 0 to exercise the full renewal path. */
  renewFactsCapacity?: number;
  /** Wait before the first mail retry (ms); tests shorten it. */
  mailRetryDelayMs?: number;
  /**
   * Told when an account's failed sign-ins from unknown devices reach JTS_RISK_FAILED_SIGN_INS
   * (once per window; the operators' webhooks hook in here). Must not throw.
   */
  onFailureThreshold?: (prn: string) => void;
}

/** The email machinery, for the development outbox route, shutdown and tests. */
export interface EmailServices {
  /** Flow mails (links, codes), in memory with a few retries. */
  mail: MailSender;
  /** The mailer the auth layer uses: flow mails to `mail`, notices through the notice outbox. */
  notices: NoticeMailer;
  /** The notice outbox (absent without the accounts database). */
  noticeOutbox: SqlNoticeOutbox | undefined;
  /** The retention job of both outboxes (absent without the accounts database). */
  purge: OutboxPurge | undefined;
  background: BackgroundWork;
  /** Only without SMTP_URL (never in production). */
  outbox: DevOutbox | undefined;
  /** Starts polling the notice outbox and the hourly purge (server.ts; tests that need retries). */
  start(): void;
  /** Resolves when every pending lookup and mail is done (shutdown, tests). */
  idle(): Promise<void>;
  /** Stops the notice worker and the purge, waiting for the mails in flight. */
  stop(): Promise<void>;
  /** Closes the SMTP connections (after `idle`); stops polling. */
  close(): void;
}

export interface Services extends AppDeps {
  /** Loaded by whoever starts the server: `start()` (server.ts) or `refresh()` (tests). */
  clientDirectory: ClientDirectory;
  email: EmailServices;
  sessions: SessionStore;
  users: MirroredUserStore;
  hasher: PasswordHasher;
  /** Operator webhooks (Config.webhooks); started by server.ts, stopped before the database closes. */
  webhooks: Webhooks | undefined;
}

/**
 * Without a SQL store (only tests of other parts build the services so): no client exists and
 * none can be registered, so the routes stay the same in every configuration.
 */
const NO_CLIENT_STORE: ClientAdministrationDeps['clients'] = {
  create: () => Promise.reject(new Error('no client store: build the services with `clients`')),
  get: () => Promise.resolve(undefined),
  list: () => Promise.resolve([]),
  update: () => Promise.resolve(undefined),
  rotateSecret: () => Promise.resolve({ outcome: 'missing' }),
  delete: () => Promise.resolve(false),
};

function redisSessions(redis: RedisClient, keys: RedisKeys, config: Config): { sessions: SessionStore; eventLog: SecurityEventLog } {
  const { commandTimeoutMs } = config.redis;
  const { retention } = config.events;
  return {
    sessions: new RedisSessionStore(redis, keys, { commandTimeoutMs, retention }),
    eventLog: new RedisEventLog(redis, keys.securityEvents(), retention, redisClockFor(redis), commandTimeoutMs),
  };
}

function memorySessions(clock: Clock, retention: EventRetention): { sessions: SessionStore; eventLog: SecurityEventLog } {
  const eventLog = new MemoryEventLog(clock, retention);
  return { sessions: new MemorySessionStore(clock, eventLog), eventLog };
}

/** Wires the protocol core, the stores and the two JTS halves from a validated configuration. */
export function buildServices(inputs: ServiceInputs): Services {
  const { config, keyRing, clock, logger, redis } = inputs;
  const metrics = createMetrics();
  // Every audit event is also counted, so metrics and the audit log never disagree.
  const audit = countingAudit(inputs.audit, metrics);
  const keys = redisKeys(config.redis.keyPrefix);
  const rateLimitStores = redis
    ? redisRateLimitStores(redis, keys.rateLimitPrefix(), (limiter) => {
        audit({ event: 'store.unavailable', operation: `rate_limit:${limiter}` });
      })
    : memoryRateLimitStores();
  // Writing scripts get half the command timeout to start (see RedisSessionStore); the ones that
  // end sessions publish to the event stream the feed reads.
  const { sessions, eventLog } = redis ? redisSessions(redis, keys, config) : memorySessions(clock, config.events.retention);
  const endedListedForMs = config.jts.endedSessionsListedForSeconds * 1000;
  const webhooks = buildWebhooks(inputs, eventLog, keys.securityEvents(), metrics.registry);
  const endedSessions = redis ? new RedisEndedSessions(redis, keys, endedListedForMs) : new MemoryEndedSessions(clock, endedListedForMs);
  const events = new EventFeed({
    log: eventLog,
    sign: createSecurityEventSigner(keyRing, config.jts.issuer),
    maxStreamsPerClient: config.events.maxStreamsPerClient,
    onTailError(error) {
      logger.warn({ err: error }, 'the security-event tail failed; retrying (subscribers stay connected and miss nothing)');
    },
  });
  // Every account change also writes the user's security mirror next to their sessions.
  const users = new MirroredUserStore(inputs.accounts?.users ?? new MemoryUserStore(), sessions, { sessionLifetimeMs: config.jts.stateProofLifetimeSeconds * 1000 });
  const hasher = boundedHasher(createPasswordHasher(config.bcryptRounds), config.bcryptMaxPending, audit);
  const { jts } = config;
  const challenges = inputs.accounts?.challenges ?? new MemoryChallengeStore(users);
  const email = buildEmail(inputs, metrics.registry, {
    users,
    challenges,
    clock,
    audit,
    settings: { windowSeconds: config.notices.windowSeconds, notMeTokenLifetimeSeconds: config.notices.notMeTokenLifetimeSeconds },
    emailSettings: config.email,
  });

  const mint = createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: jts.bearerPassLifetimeSeconds, issuer: jts.issuer, audience: jts.audience });
  const verify = createBearerPassVerifier({ keyFor: (kid) => keyRing.get(kid), clock, audience: jts.audience, issuer: jts.issuer, clockSkewSeconds: jts.clockSkewSeconds });

  const authServer = new JTSAuthServer({
    users,
    sessions,
    hasher,
    stateProofs: new StateProofCodec(inputs.stateProofSecret),
    mint,
    clock,
    audit,
    ...(inputs.renewFactsCapacity === undefined ? {} : { renewFactsCapacity: inputs.renewFactsCapacity }),
    email: {
      challenges,
      mailer: email.notices,
      background: email.background,
      codeKey: deriveCodeKey(inputs.stateProofSecret),
      emailSettings: config.email,
    },
    mfa: {
      factors: inputs.accounts?.factors ?? new MemorySecondFactorStore(),
      factorKey: deriveFactorKey(inputs.stateProofSecret),
      mfaSettings: { issuerName: config.email.productName, freshAuthMaxAgeSeconds: config.mfa.freshAuthMaxAgeSeconds, enrolmentNeedsVerifiedEmail: config.email.verification !== 'off' },
    },
    passkeys: { store: inputs.accounts?.passkeys ?? new MemoryPasskeyStore(), webauthn: config.webauthn },
    endedSessions,
    theftAlertsMailed: {
      ...windowCounter(rateLimitStores('theft-alerts'), THEFT_ALERT_WINDOW_MS),
      onError(error: unknown) {
        audit({ event: 'store.unavailable', operation: 'rate_limit:theft-alerts' });
        logger.warn({ err: error }, 'the theft alert counter is unreachable: alerts are mailed without their bound');
      },
    },
    ...(config.notices.enabled
      ? {
          notices: {
            devices: inputs.accounts?.signInDevices ?? new MemorySignInDeviceStore(users),
            key: deriveSignInDeviceKey(inputs.stateProofSecret),
            settings: { windowSeconds: config.notices.windowSeconds, notMeTokenLifetimeSeconds: config.notices.notMeTokenLifetimeSeconds },
            mailed: windowCounter(rateLimitStores('sign-in-notices'), NOTICE_WINDOW_MS),
            onCounterError(error: unknown) {
              audit({ event: 'store.unavailable', operation: 'rate_limit:sign-in-notices' });
              logger.warn({ err: error }, 'the sign-in notice counter is unreachable: notices are mailed without their bound');
            },
          },
        }
      : {}),
    ...(webhooks
      ? {
          onEmailChanged(prn: string, via: 'link' | 'not_me', version: number) {
            // One event per change: the row's version names it, whichever instance made it.
            webhooks.enqueue('account.email_changed', { prn, via }, { key: `${prn}:email:${String(version)}` }).catch((error: unknown) => {
              logger.warn({ err: error }, 'webhooks: could not queue account.email_changed');
            });
          },
        }
      : {}),
    ...(config.risk
      ? {
          risk: {
            counter: windowCounter(rateLimitStores('risk-failed-sign-ins'), config.risk.windowMs),
            threshold: config.risk.limit,
            onCounterError(error: unknown) {
              audit({ event: 'store.unavailable', operation: 'rate_limit:risk-failed-sign-ins' });
              logger.warn({ err: error }, 'the failed sign-in counter is unreachable: sign-ins go on without the risk step-up');
            },
            onFailureThreshold(prn: string) {
              inputs.onFailureThreshold?.(prn);
              if (!webhooks || !config.risk) return;
              // One event per account and window, whichever instance saw the threshold first.
              const window = Math.floor(clock.now() / config.risk.windowMs);
              webhooks
                .enqueue('sign_in.failures_exceeded', { prn, count: config.risk.limit, window_seconds: config.risk.windowMs / 1000 }, { key: `${prn}:${window}` })
                .catch((error: unknown) => {
                  logger.warn({ err: error }, 'webhooks: could not queue sign_in.failures_exceeded');
                });
            },
          },
        }
      : {}),
    settings: {
      bearerPassLifetimeSeconds: jts.bearerPassLifetimeSeconds,
      stateProofLifetimeSeconds: jts.stateProofLifetimeSeconds,
      rotationGraceSeconds: jts.rotationGraceSeconds,
      replayRevoke: jts.replayRevoke,
      sessionPolicy: jts.sessionPolicy,
      allowRegistration: jts.allowRegistration,
      mfaRequiredFor: config.mfa.requiredFor,
      notMeTokenLifetimeSeconds: config.notices.notMeTokenLifetimeSeconds,
    },
  });

  const resourceServer = new JTSResourceServer({
    verify,
    sessions,
    revocationCheck: jts.revocationCheck,
    onStoreError: jts.revocationOnStoreError,
    onDegraded(payload) {
      audit({ event: 'store.unavailable', operation: 'revocation_check' });
      logger.warn({ prn: payload.prn, aid: payload.aid }, 'session store unreachable: BearerPass accepted on its signature alone (JTS_REVOCATION_ON_STORE_ERROR=allow)');
    },
  });

  // The admin API's service; the user CLI builds its own from the same class (cli/user.ts).
  const administration = new UserAdministration({ users, sessions, hasher, clock, audit, resetFactors: (id) => authServer.resetFactors(id) });
  const clientsStore = inputs.accounts?.clients;
  const refreshMs = jts.clientsRefreshSeconds * 1000;
  const clientDirectory = new ClientDirectory({
    load: () => (clientsStore ? clientsStore.list() : Promise.resolve([])),
    refreshMs,
    // Ten missed refreshes (at least five minutes) before a database outage stops client authentication.
    maxStaleMs: Math.max(10 * refreshMs, 300_000),
    now: () => clock.now(),
    onRefreshError(error) {
      logger.warn({ err: error }, 'could not reload the service clients; the last ones read stay in use');
    },
  });
  // The /admin/clients service; `npm run client` builds its own from the same class (cli/client.ts).
  const clientAdministration = new ClientAdministration({
    clients: clientsStore ?? NO_CLIENT_STORE,
    serverAudience: jts.audience,
    accounts: users,
    audit,
    // A change made here is seen here at once; other instances see it at their next refresh.
    onChange: () =>
      clientDirectory.refresh().catch((error: unknown) => {
        logger.warn({ err: error }, 'could not reload the service clients after a change; the next refresh will');
      }),
  });
  const grants = new OAuthGrants({
    clients: clientDirectory,
    mintClientToken: createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: jts.clientTokenLifetimeSeconds, issuer: jts.issuer }),
    mintExchangedToken: createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: jts.exchangeTokenLifetimeSeconds, issuer: jts.issuer }),
    resourceServer,
    sessions,
    serverAudience: jts.audience,
    audit,
  });
  const introspection = new Introspection({
    // Any audience: the introspecting client's is checked by Introspection itself.
    verify: createBearerPassVerifier({ keyFor: (kid) => keyRing.get(kid), clock, issuer: jts.issuer, clockSkewSeconds: jts.clockSkewSeconds }),
    resourceServer,
    clients: clientDirectory,
    serverAudience: jts.audience,
  });

  const readiness = {
    async check() {
      const checks: Record<string, string> = { keys: keyRing.size > 0 ? 'ok' : 'no keys' };
      try {
        await sessions.ping();
        checks.store = 'ok';
      } catch {
        checks.store = 'unreachable';
      }
      if (inputs.isShuttingDown?.()) checks.lifecycle = 'shutting down';
      return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
    },
  };


  return {
    settings: {
      issuer: jts.issuer,
      cookieSecure: jts.cookieSecure,
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      bodyLimit: config.bodyLimit,
      production: config.env === 'production',
      corsMaxAgeSeconds: config.corsMaxAgeSeconds,
      rateLimits: config.rateLimits,
      metricsToken: config.metricsToken,
      demoPage: config.demoPage,
      demoUsers: jts.demoUsers,
    },
    keyRing,
    authServer,
    resourceServer,
    administration,
    clientAdministration,
    oauth: { grants, introspection, clients: clientDirectory },
    clientDirectory,
    users,
    sessions,
    hasher,
    email,
    webhooks,
    clock,
    logger,
    readiness,
    events,
    audit,
    metrics,
    rateLimitStores,
    knownDeviceKey: deriveKnownDeviceKey(inputs.stateProofSecret),
    ...(email.outbox ? { outbox: email.outbox } : {}),
  };
}

/**
 * Operator webhooks when configured. They need the accounts database (the outbox): a build without
 * one (tests of other parts, with the memory user store) cannot honour the setting and says so.
 */
function buildWebhooks(inputs: ServiceInputs, log: SecurityEventLog, stream: string, registry: Registry): Webhooks | undefined {
  const { config, logger, clock } = inputs;
  if (config.webhooks === undefined) return undefined;
  if (inputs.accountsDb === undefined) throw new Error('JTS_WEBHOOK_URLS is set but the services were built without the accounts database: webhooks keep their outbox in PostgreSQL/PGlite');
  return new Webhooks({
    settings: config.webhooks,
    db: inputs.accountsDb,
    log,
    stream,
    registry,
    now: () => clock.now(),
    onError(error, loop) {
      logger.warn({ err: error, loop }, 'webhook work failed; retrying at the next poll (the outbox keeps every event)');
    },
    onDeadLetter({ id, endpoint, error }) {
      logger.error({ webhookId: id, endpoint: shownUrl(endpoint), error }, 'webhook dead-lettered after its last attempt; `npm run webhooks -- redeliver --id <webhookId>` sends it again');
    },
  });
}

/**
 * SMTP when SMTP_URL is set, else the development outbox (config refuses that in production); a
 * sender with retries in front for flow mails, the notice outbox for notices (notices.ts); a
 * background runner whose failures are logged (never answered).
 */
function buildEmail(inputs: ServiceInputs, registry: Registry, links: NotMeLinkDeps): EmailServices {
  const { config, logger, clock } = inputs;
  const outbox = config.email.smtpUrl === undefined ? new DevOutbox(logger, () => clock.now()) : undefined;
  const transport = config.email.smtpUrl === undefined ? (outbox as DevOutbox) : smtpTransport(config.email.smtpUrl);
  const mail = new MailSender({
    transport,
    from: config.email.from,
    productName: config.email.productName,
    logger,
    registry,
    ...(inputs.mailRetryDelayMs === undefined ? {} : { retryDelayMs: inputs.mailRetryDelayMs }),
  });
  const noticeOutbox = inputs.accountsDb && new SqlNoticeOutbox(inputs.accountsDb);
  const notices = new NoticeMailer({
    sender: mail,
    outbox: noticeOutbox,
    transport,
    from: config.email.from,
    productName: config.email.productName,
    prepare: (notice) => {
      if (notice.kind === 'new-sign-in') return withNotMeLink(links, notice);
      if (notice.kind === 'email-changed') return withUndoLink({ ...links, notMeTokenLifetimeSeconds: links.settings.notMeTokenLifetimeSeconds }, notice);
      return Promise.resolve(notice);
    },
    retry: config.outbox.noticeRetry,
    pollMs: config.outbox.noticePollMs,
    registry,
    logger,
  });
  const purge =
    inputs.accountsDb &&
    new OutboxPurge(inputs.accountsDb, config.outbox.retention, (error) => {
      logger.warn({ err: error }, 'the outbox purge failed; it runs again within the hour');
    });
  const background = new BackgroundWork((error, task) => {
    logger.error({ err: error, task }, 'email work failed in the background (the requester was answered 202 all the same)');
  });
  return {
    mail,
    notices,
    noticeOutbox,
    purge,
    background,
    outbox,
    start() {
      notices.start();
      purge?.start();
    },
    async idle() {
      await background.idle();
      await notices.idle();
      await mail.idle();
    },
    async stop() {
      await Promise.all([notices.stop(), purge?.stop()]);
    },
    close() {
      void notices.stop();
      void purge?.stop();
      transport.close();
    },
  };
}
