import { JTS_ALGORITHMS, isJtsAlgorithm } from '../jts/algorithms.js';
import { envSchema, type Env } from './schema.js';
import type { SessionPolicy } from '../sessions/policy.js';
import { parseSessionPolicy } from '../sessions/policy.js';
import { eventRetention, minimumRetentionSeconds, type EventRetention } from '../sessions/security-events.js';
import { ConfigError } from './startup-error.js';
import { shownValue } from './redact.js';
import { defaultIssuer } from './issuer-origin.js';
import { webAuthnSettings, type WebAuthnSettings } from './webauthn.js';
import { webhookSettings, type WebhookSettings } from './webhooks.js';

export { ConfigError } from './startup-error.js';

/** The validated configuration the rest of the server sees: units in names, no raw strings. */
export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  jts: {
    algorithm: Env['JTS_ALGORITHM'];
    audience: string;
    issuer: string;
    bearerPassLifetimeSeconds: number;
    stateProofLifetimeSeconds: number;
    rotationGraceSeconds: number;
    clockSkewSeconds: number;
    privateKeyPath: string;
    publicKeyPath: string;
    previousPublicKeys: { alg: Env['JTS_ALGORITHM']; path: string }[];
    stateProofSecret: string | undefined;
    stateProofSecretPath: string;
    replayRevoke: Env['JTS_REPLAY_REVOKE'];
    sessionPolicy: SessionPolicy;
    revocationCheck: Env['JTS_REVOCATION_CHECK'];
    revocationOnStoreError: Env['JTS_REVOCATION_ON_STORE_ERROR'];
    allowRegistration: boolean;
    cookieSecure: boolean;
    demoUsers: boolean;
    clientTokenLifetimeSeconds: number;
    exchangeTokenLifetimeSeconds: number;
    clientsRefreshSeconds: number;
    /** JTS_ENDED_SESSIONS_LISTED_FOR: seconds an ended session stays in its owner's list (0: never listed). */
    endedSessionsListedForSeconds: number;
  };
  /** The security-event feed (GET /jts/events): stream retention and not-after, subscriber limit. */
  events: { retention: EventRetention; maxStreamsPerClient: number };
  /** Serve the browser demo page at / and its /assets (DEMO_PAGE); off: / is the JSON description only. */
  demoPage: boolean;
  /** At most one of `url`, `clusterNodes`, `sentinels` is set; none means the memory stores. */
  redis: {
    url: string | undefined;
    clusterNodes: { host: string; port: number }[];
    sentinels: { host: string; port: number }[];
    sentinelName: string | undefined;
    password: string | undefined;
    keyPrefix: string;
    commandTimeoutMs: number;
  };
  /** `url` set: PostgreSQL; unset: PGlite in `dataDir` (refused in production). */
  database: { url: string | undefined; dataDir: string; timeoutMs: number; poolMax: number };
  bcryptRounds: number;
  /** Password hashes running or waiting at once, server-wide (BCRYPT_MAX_PENDING). */
  bcryptMaxPending: number;
  corsOrigins: string[];
  trustProxy: boolean | number | string;
  bodyLimit: string;
  corsMaxAgeSeconds: number;
  rateLimits: RateLimitSettings;
  email: EmailSettings;
  /**
   * New sign-in notices: on with JTS_SIGN_IN_NOTICES=on, off with =off; unset, on when mail really
   * leaves (SMTP_URL) or JTS_SESSION_POLICY=notify asks for them. Durations in seconds.
   */
  notices: { enabled: boolean; windowSeconds: number; notMeTokenLifetimeSeconds: number };
  /** JTS_RISK_FAILED_SIGN_INS: failed sign-ins from unknown devices before the emailed-code step-up; undefined: off. */
  risk: RateLimitRule | undefined;
  /** Second factors: JTS_FRESH_AUTH_MAX_AGE (seconds); JTS_MFA_REQUIRED_FOR (permissions held only after a second factor). */
  mfa: { freshAuthMaxAgeSeconds: number; requiredFor: string[] };
  /** Passkeys: JTS_WEBAUTHN_RP_ID, JTS_WEBAUTHN_RP_NAME, JTS_WEBAUTHN_ORIGINS (defaults from the issuer). */
  webauthn: WebAuthnSettings;
  /** Operator webhooks (JTS_WEBHOOK_*); undefined when JTS_WEBHOOK_URLS is unset. */
  webhooks: WebhookSettings | undefined;
  /** When set, GET /metrics needs it (Bearer or X-Metrics-Token). */
  metricsToken: string | undefined;
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number };
  /** `delayMs`: how long /readyz says 503 before the listener closes; `timeoutMs`: drain bound. */
  shutdown: { delayMs: number; timeoutMs: number };
}

/** Email verification, recovery and sign-in codes (durations in seconds). */
export interface EmailSettings {
  verification: Env['JTS_EMAIL_VERIFICATION'];
  resetTokenLifetimeSeconds: number;
  verifyTokenLifetimeSeconds: number;
  loginCodeLifetimeSeconds: number;
  /** The base of links in mails (PUBLIC_URL, else the issuer), without a trailing slash. */
  publicUrl: string;
  /** Unset: the development outbox (refused in production). Holds a password: never logged. */
  smtpUrl: string | undefined;
  from: string;
  productName: string;
}

export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  /** Failed logins per client IP (credential stuffing is a failure pattern). */
  loginIp: RateLimitRule;
  /** Every login attempt per client IP, successful or not: a ceiling on the hashing one address can cause. */
  loginIpAttempts: RateLimitRule;
  /**
   * Failed password checks per account, whatever the client address: logins (by normalised email)
   * and password changes (by account id) count alike.
   */
  loginAccount: RateLimitRule;
  register: RateLimitRule;
  renew: RateLimitRule;
  password: RateLimitRule;
  /** Token exchanges per user (RFC 8693 downstream tokens). */
  tokenExchange: RateLimitRule;
  /** Introspection calls per service client. */
  introspect: RateLimitRule;
  /** Mails asked for per client IP. */
  mailIp: RateLimitRule;
  /** Mails asked for per account, from any address (unknown clients together; each known device apart). */
  mailAccount: RateLimitRule;
  /** Wrong sign-in codes per account, from any address, over a long window (unknown clients together; each known device apart). */
  codeAccount: RateLimitRule;
}

/** Parses and checks the environment; throws one ConfigError listing every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // `NAME=` (as a copied .env.example leaves a setting) means unset, for every variable alike: an
  // empty value fell to each type's own check (`DEMO_PAGE="": expected on or off`).
  const set = Object.fromEntries(Object.entries(source).filter(([, value]) => value === undefined || value.trim() !== ''));
  const result = envSchema.safeParse(set);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        return `${name}=${shownValue(name, source[name])}: ${issue.message}`;
      }),
    );
  }
  const env = result.data;
  const problems: string[] = [];
  const production = env.NODE_ENV === 'production';
  // Outside production the default follows PORT (and HOST), so the issuer names the origin served.
  const audience = env.JTS_AUDIENCE ?? (production ? PRODUCTION_DEFAULT_AUDIENCE : defaultIssuer({ host: env.HOST, port: env.PORT }));

  const previousPublicKeys = env.JTS_PREVIOUS_PUBLIC_KEYS.map((entry) => {
    const [, alg, path] = PREVIOUS_PUBLIC_KEY.exec(entry) ?? [];
    if (!isJtsAlgorithm(alg) || path === undefined) {
      problems.push(`JTS_PREVIOUS_PUBLIC_KEYS=${shownValue('JTS_PREVIOUS_PUBLIC_KEYS', entry)}: expected ALG:path, e.g. ES256:./keys/old.pub.pem`);
      return undefined;
    }
    return { alg, path };
  }).filter((entry) => entry !== undefined);

  if (env.JTS_ROTATION_GRACE > 0 && env.JTS_ROTATION_GRACE < 5) {
    problems.push(`JTS_ROTATION_GRACE=${JSON.stringify(source.JTS_ROTATION_GRACE)}: the grace window is 5 to 10 seconds (0 only for tests)`);
  }
  if (env.JTS_ROTATION_GRACE === 0 && env.NODE_ENV !== 'test') {
    problems.push(`JTS_ROTATION_GRACE="0": a zero grace window is allowed only with NODE_ENV=test`);
  }
  if (env.BCRYPT_ROUNDS < 10 && env.NODE_ENV !== 'test') {
    problems.push(`BCRYPT_ROUNDS=${JSON.stringify(source.BCRYPT_ROUNDS)}: below 10 is allowed only with NODE_ENV=test`);
  }
  const cookieSecure = env.JTS_COOKIE_SECURE === 'auto' ? production : env.JTS_COOKIE_SECURE === 'true';
  if (production) {
    if (!cookieSecure) problems.push('JTS_COOKIE_SECURE="false": production cookies must be Secure');
    if (env.BCRYPT_ROUNDS < 12) problems.push(`BCRYPT_ROUNDS=${JSON.stringify(source.BCRYPT_ROUNDS)}: production needs at least 12`);
    if (!env.REDIS_URL && env.REDIS_CLUSTER_NODES.length === 0 && env.REDIS_SENTINELS.length === 0) {
      problems.push('REDIS_URL="": production needs Redis (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS); the memory store loses every session on restart and cannot be shared');
    }
    if (env.DATABASE_URL === undefined) {
      problems.push('DATABASE_URL="": production needs PostgreSQL (postgres://user:password@host:5432/db); the embedded PGlite under DATA_DIR is one process on one disk, for development only');
    }
    if (env.TRUST_PROXY === 'true') {
      problems.push('TRUST_PROXY="true": any client could then forge X-Forwarded-For; give the hop count (1) or the proxies\' addresses');
    }
    if (env.SMTP_URL === undefined) problems.push('SMTP_URL="": production needs an SMTP server for password reset, verification and sign-in codes (smtp://user:password@host:587); the development outbox keeps mails in memory');
    if (env.MAIL_FROM === undefined) problems.push('MAIL_FROM="": production mails need a sender, e.g. "Example Auth <no-reply@example.com>"');
    if (env.JTS_DEMO_USERS === 'true') problems.push('JTS_DEMO_USERS="true": demo users with known passwords are refused in production');
    if (env.CORS_ORIGINS.includes('*')) problems.push('CORS_ORIGINS="*": credentials are never shared with every origin; list the origins');
    if (env.CORS_ORIGINS.length === 0 && originOf(audience) !== originOf(env.JTS_ISSUER ?? audience)) {
      problems.push(
        'CORS_ORIGINS="": JTS_AUDIENCE is on another origin than the issuer, so browser clients call /jts/* cross-origin; list their origins, or set CORS_ORIGINS=none if no browser client runs on another origin',
      );
    }
  }
  for (const origin of env.CORS_ORIGINS) {
    // An Origin header is compared as an exact string: no path, no trailing slash, no wildcard.
    if (origin !== '*' && origin !== 'none' && (originOf(origin) !== origin || origin.includes('*'))) {
      problems.push(`CORS_ORIGINS=${shownValue('CORS_ORIGINS', origin)}: expected an exact origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash)`);
    }
  }
  if (env.CORS_ORIGINS.includes('none') && env.CORS_ORIGINS.length > 1) problems.push('CORS_ORIGINS: "none" cannot be combined with origins');
  if (env.HTTP_HEADERS_TIMEOUT > env.HTTP_REQUEST_TIMEOUT) {
    problems.push(`HTTP_HEADERS_TIMEOUT=${JSON.stringify(source.HTTP_HEADERS_TIMEOUT)}: must not exceed HTTP_REQUEST_TIMEOUT (${env.HTTP_REQUEST_TIMEOUT} ms)`);
  }
  const redisModes = [env.REDIS_URL ? 'REDIS_URL' : '', env.REDIS_CLUSTER_NODES.length > 0 ? 'REDIS_CLUSTER_NODES' : '', env.REDIS_SENTINELS.length > 0 ? 'REDIS_SENTINELS' : ''].filter((name) => name !== '');
  if (redisModes.length > 1) problems.push(`${redisModes.join(', ')}: set only one way to reach Redis (a URL, a Cluster, or Sentinels)`);
  if (env.REDIS_SENTINELS.length > 0 && env.REDIS_SENTINEL_NAME === undefined) problems.push('REDIS_SENTINEL_NAME="": Sentinel mode needs the name of the master group (e.g. mymaster)');
  const retentionInputs = {
    bearerPassLifetimeSeconds: env.JTS_BEARER_PASS_LIFETIME,
    exchangeTokenLifetimeSeconds: env.JTS_EXCHANGE_TOKEN_LIFETIME,
    rotationGraceSeconds: env.JTS_ROTATION_GRACE,
    clockSkewSeconds: env.JTS_CLOCK_SKEW,
  };
  const minimumRetention = minimumRetentionSeconds(retentionInputs);
  if (env.JTS_EVENTS_RETENTION > 0 && env.JTS_EVENTS_RETENTION < minimumRetention) {
    problems.push(
      `JTS_EVENTS_RETENTION=${JSON.stringify(source.JTS_EVENTS_RETENTION)}: must be at least ${minimumRetention} s (the longest BearerPass or exchanged token life + JTS_ROTATION_GRACE + JTS_CLOCK_SKEW), or 0 for exactly that`,
    );
  }
  const webauthn = webAuthnSettings({
    rpId: env.JTS_WEBAUTHN_RP_ID,
    rpName: env.JTS_WEBAUTHN_RP_NAME || env.MAIL_PRODUCT_NAME,
    origins: env.JTS_WEBAUTHN_ORIGINS,
    issuer: env.JTS_ISSUER ?? audience,
  });
  // The derived defaults may not suit passkeys (an issuer at 127.0.0.1, a plain-http host): only
  // values the operator set stop the start; otherwise server.ts warns and passkeys fail in browsers,
  // and a deployment that does not use them starts as before.
  const webauthnSet = env.JTS_WEBAUTHN_RP_ID !== undefined || env.JTS_WEBAUTHN_ORIGINS.length > 0;
  if ('problems' in webauthn && webauthnSet) problems.push(...webauthn.problems);
  const webhooks = webhookSettings({
    urls: env.JTS_WEBHOOK_URLS,
    secret: env.JTS_WEBHOOK_SECRET,
    allowHttp: env.JTS_WEBHOOK_ALLOW_HTTP,
    timeoutMs: env.JTS_WEBHOOK_TIMEOUT,
    retry: { baseMs: env.JTS_WEBHOOK_RETRY_BASE, maxDelayMs: env.JTS_WEBHOOK_RETRY_MAX_DELAY, maxAttempts: env.JTS_WEBHOOK_MAX_ATTEMPTS },
    pollMs: env.JTS_WEBHOOK_POLL,
    persistentDatabase: env.DATABASE_URL !== undefined || env.DATA_DIR !== 'memory://',
  });
  problems.push(...webhooks.problems);
  if (problems.length > 0) throw new ConfigError(problems);

  let sessionPolicy: SessionPolicy;
  try {
    sessionPolicy = parseSessionPolicy(env.JTS_SESSION_POLICY);
  } catch (error) {
    throw new ConfigError([`JTS_SESSION_POLICY=${JSON.stringify(env.JTS_SESSION_POLICY)}: ${(error as Error).message}`]);
  }

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    jts: {
      algorithm: env.JTS_ALGORITHM,
      audience,
      issuer: env.JTS_ISSUER ?? audience,
      bearerPassLifetimeSeconds: env.JTS_BEARER_PASS_LIFETIME,
      stateProofLifetimeSeconds: env.JTS_STATE_PROOF_LIFETIME,
      rotationGraceSeconds: env.JTS_ROTATION_GRACE,
      clockSkewSeconds: env.JTS_CLOCK_SKEW,
      privateKeyPath: env.JTS_PRIVATE_KEY_PATH,
      publicKeyPath: env.JTS_PUBLIC_KEY_PATH,
      previousPublicKeys,
      stateProofSecret: env.JTS_STATE_PROOF_SECRET,
      stateProofSecretPath: env.JTS_STATE_PROOF_SECRET_PATH,
      replayRevoke: env.JTS_REPLAY_REVOKE,
      sessionPolicy,
      revocationCheck: env.JTS_REVOCATION_CHECK,
      revocationOnStoreError: env.JTS_REVOCATION_ON_STORE_ERROR,
      allowRegistration: env.JTS_ALLOW_REGISTRATION,
      cookieSecure,
      demoUsers: env.JTS_DEMO_USERS === 'auto' ? !production : env.JTS_DEMO_USERS === 'true',
      clientTokenLifetimeSeconds: env.JTS_CLIENT_TOKEN_LIFETIME,
      exchangeTokenLifetimeSeconds: env.JTS_EXCHANGE_TOKEN_LIFETIME,
      clientsRefreshSeconds: env.JTS_CLIENTS_REFRESH,
      endedSessionsListedForSeconds: env.JTS_ENDED_SESSIONS_LISTED_FOR,
    },
    events: {
      retention: eventRetention({ ...retentionInputs, ...(env.JTS_EVENTS_RETENTION > 0 ? { retentionSeconds: env.JTS_EVENTS_RETENTION } : {}) }),
      maxStreamsPerClient: env.JTS_EVENTS_MAX_STREAMS_PER_CLIENT,
    },
    demoPage: env.DEMO_PAGE === undefined ? !production : env.DEMO_PAGE === 'on',
    redis: {
      url: env.REDIS_URL,
      clusterNodes: env.REDIS_CLUSTER_NODES,
      sentinels: env.REDIS_SENTINELS,
      sentinelName: env.REDIS_SENTINEL_NAME,
      password: env.REDIS_PASSWORD,
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT,
    },
    database: { url: env.DATABASE_URL, dataDir: env.DATA_DIR, timeoutMs: env.DATABASE_TIMEOUT, poolMax: env.DATABASE_POOL_MAX },
    bcryptRounds: env.BCRYPT_ROUNDS,
    bcryptMaxPending: env.BCRYPT_MAX_PENDING,
    corsOrigins: env.CORS_ORIGINS.filter((origin) => origin !== 'none'),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    bodyLimit: env.BODY_LIMIT,
    corsMaxAgeSeconds: env.CORS_MAX_AGE,
    rateLimits: {
      enabled: env.RATE_LIMIT_ENABLED,
      loginIp: env.RATE_LIMIT_LOGIN_IP,
      loginIpAttempts: env.RATE_LIMIT_LOGIN_IP_ATTEMPTS,
      loginAccount: env.RATE_LIMIT_LOGIN_ACCOUNT,
      register: env.RATE_LIMIT_REGISTER,
      renew: env.RATE_LIMIT_RENEW,
      password: env.RATE_LIMIT_PASSWORD,
      tokenExchange: env.RATE_LIMIT_TOKEN_EXCHANGE,
      introspect: env.RATE_LIMIT_INTROSPECT,
      mailIp: env.RATE_LIMIT_MAIL_IP,
      mailAccount: env.RATE_LIMIT_MAIL_ACCOUNT,
      codeAccount: env.RATE_LIMIT_CODE_ACCOUNT,
    },
    email: {
      verification: env.JTS_EMAIL_VERIFICATION,
      resetTokenLifetimeSeconds: env.JTS_RESET_TOKEN_LIFETIME,
      verifyTokenLifetimeSeconds: env.JTS_VERIFY_TOKEN_LIFETIME,
      loginCodeLifetimeSeconds: env.JTS_LOGIN_CODE_LIFETIME,
      publicUrl: (env.PUBLIC_URL ?? env.JTS_ISSUER ?? audience).replace(/\/+$/, ''),
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? `${env.MAIL_PRODUCT_NAME} <no-reply@localhost>`,
      productName: env.MAIL_PRODUCT_NAME,
    },
    notices: {
      enabled: env.JTS_SIGN_IN_NOTICES === undefined ? env.SMTP_URL !== undefined || sessionPolicy.kind === 'notify' : env.JTS_SIGN_IN_NOTICES === 'on',
      windowSeconds: env.JTS_SIGN_IN_NOTICE_WINDOW,
      notMeTokenLifetimeSeconds: env.JTS_NOT_ME_TOKEN_LIFETIME,
    },
    risk: env.JTS_RISK_FAILED_SIGN_INS === 'off' ? undefined : env.JTS_RISK_FAILED_SIGN_INS,
    mfa: { freshAuthMaxAgeSeconds: env.JTS_FRESH_AUTH_MAX_AGE, requiredFor: env.JTS_MFA_REQUIRED_FOR },
    webauthn: 'problems' in webauthn ? { ...fallbackWebAuthn(env.JTS_ISSUER ?? audience, env.JTS_WEBAUTHN_RP_NAME || env.MAIL_PRODUCT_NAME), unusable: webauthn.problems } : webauthn,
    webhooks: webhooks.settings,
    metricsToken: env.METRICS_TOKEN,
    http: { requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT, headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT, keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT },
    shutdown: { delayMs: env.SHUTDOWN_DELAY, timeoutMs: env.SHUTDOWN_TIMEOUT },
  };
}

/**
 * Production's issuer when JTS_ISSUER and JTS_AUDIENCE are unset: kept as in 0.1 (a deployment
 * sets them; the start-up warning names a mismatch with the port).
 */
const PRODUCTION_DEFAULT_AUDIENCE = 'http://localhost:3000';

/** A JTS_PREVIOUS_PUBLIC_KEYS entry: `ALG:path`, with ALG one of the algorithms JTS allows. */
const PREVIOUS_PUBLIC_KEY = new RegExp(`^(${JTS_ALGORITHMS.join('|')}):(.+)$`);

/** `scheme://host[:port]` of a URL, or undefined when it is not one. */
function originOf(value: string): string | undefined {
  try {
    const { origin } = new URL(value);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** Development with an issuer passkeys cannot use (e.g. http://127.0.0.1:3000): the issuer's host and origin as they are. */
function fallbackWebAuthn(issuer: string, rpName: string): WebAuthnSettings {
  const url = new URL(issuer);
  return { rpId: url.hostname, rpName, origins: [url.origin] };
}

/** Express accepts a boolean, a hop count, or a list of addresses/subnets. */
function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^[0-9]+$/.test(value)) return Number(value);
  return value;
}
