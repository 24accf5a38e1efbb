import { z } from 'zod';
import { JTS_ALGORITHMS } from '../jts/algorithms.js';

/**
 * Every environment variable the server reads, with its default. `.env.example` and the README
 * table mirror this file; `test/config.test.ts` keeps them in step.
 */

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number({ error: 'expected a whole number of seconds' }).int('expected a whole number of seconds').min(min).max(max).default(fallback);

const milliseconds = (fallback: number, min: number, max: number) =>
  z.coerce.number({ error: 'expected a whole number of milliseconds' }).int('expected a whole number of milliseconds').min(min).max(max).default(fallback);

const count = (fallback: number, min: number, max: number) =>
  z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback);

const list = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((item) => item.trim()).filter((item) => item.length > 0));

/** `<count>/<window>` with the window's unit in the value, e.g. `20/1m`, `5/15m`, `10/1h`. */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;
const rateLimit = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => /^[1-9][0-9]{0,5}\/[1-9][0-9]{0,3}[smh]$/.test(v), 'expected <count>/<window>, e.g. 20/1m (window in s, m or h)')
    .transform((v) => {
      const [limit = '', window = ''] = v.split('/');
      return { limit: Number(limit), windowMs: Number(window.slice(0, -1)) * UNIT_MS[window.slice(-1) as keyof typeof UNIT_MS] };
    });

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:7000`). */
const hostPortList = z
  .string()
  .default('')
  .transform((v) => v.split(',').map((item) => item.trim()).filter((item) => item.length > 0))
  .refine((items) => items.every((item) => /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[1-9][0-9]{0,4}$/.test(item) && Number(item.slice(item.lastIndexOf(':') + 1)) <= 65535), 'expected host:port,host:port')
  .transform((items) =>
    items.map((item) => {
      const at = item.lastIndexOf(':');
      return { host: item.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(item.slice(at + 1)) };
    }),
  );

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The URL's scheme (`redis:`), or undefined when the value is not an absolute URL. */
function schemeOf(value: string): string | undefined {
  try {
    return new URL(value).protocol;
  } catch {
    return undefined;
  }
}

/** An http(s) URL or unset: the issuer and audience are origins browsers and verifiers call. */
const optionalHttpUrl = optionalString.refine((v) => v === undefined || ['http:', 'https:'].includes(schemeOf(v) ?? ''), 'expected an http:// or https:// URL');

/**
 * `redis://` or `rediss://` (TLS) only: ioredis takes any other string for a Unix socket path and
 * then logs it, password included, on every reconnect.
 */
const redisUrl = optionalString.refine(
  (v) => v === undefined || ['redis:', 'rediss:'].includes(schemeOf(v) ?? ''),
  'expected redis://[user:password@]host:port[/db], or rediss:// for TLS',
);

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: count(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  JTS_ALGORITHM: z.enum(JTS_ALGORITHMS, { error: `expected one of ${JTS_ALGORITHMS.join(', ')}` }).default('ES256'),
  /** Unset: http://localhost:3000 in production, else derived from PORT and HOST (issuer-origin.ts). */
  JTS_AUDIENCE: optionalHttpUrl,
  JTS_ISSUER: optionalHttpUrl,
  JTS_BEARER_PASS_LIFETIME: seconds(300, 1, 3600),
  JTS_STATE_PROOF_LIFETIME: seconds(604800, 60, 31_536_000),
  JTS_ROTATION_GRACE: seconds(10, 0, 10),
  JTS_CLOCK_SKEW: seconds(5, 0, 60),
  JTS_PRIVATE_KEY_PATH: z.string().default('./keys/signing-key.pem'),
  JTS_PUBLIC_KEY_PATH: z.string().default('./keys/signing-key.pub.pem'),
  JTS_PREVIOUS_PUBLIC_KEYS: list,
  JTS_STATE_PROOF_SECRET: optionalString,
  JTS_STATE_PROOF_SECRET_PATH: z.string().default('./keys/state-proof.secret'),
  JTS_REPLAY_REVOKE: z.enum(['session', 'principal']).default('session'),
  JTS_SESSION_POLICY: z.string().default('allow_all'),
  JTS_REVOCATION_CHECK: z.enum(['strict', 'off']).default('strict'),
  JTS_REVOCATION_ON_STORE_ERROR: z.enum(['deny', 'allow']).default('deny'),
  JTS_ALLOW_REGISTRATION: bool(true),
  JTS_COOKIE_SECURE: z.enum(['true', 'false', 'auto']).default('auto'),
  JTS_DEMO_USERS: z.enum(['true', 'false', 'auto']).default('auto'),
  /** Life of a client-credentials token (JTS.md: about an hour). */
  JTS_CLIENT_TOKEN_LIFETIME: seconds(3600, 60, 86_400),
  /** Life of a token-exchange token: at most 15 minutes. */
  JTS_EXCHANGE_TOKEN_LIFETIME: seconds(900, 30, 900),
  /** How often each instance reloads the service clients from the accounts database. */
  JTS_CLIENTS_REFRESH: seconds(30, 1, 3600),
  /** How long a session a replay ended stays in its owner's list as "ended: token theft detected"; 0: not listed. */
  JTS_ENDED_SESSIONS_LISTED_FOR: seconds(604_800, 0, 2_592_000),
  /** How long security events are kept for subscribers; 0: the least that is safe (see eventRetention). */
  JTS_EVENTS_RETENTION: seconds(0, 0, 604_800),
  /** Open event streams (GET /jts/events) one service client may hold on one instance. */
  JTS_EVENTS_MAX_STREAMS_PER_CLIENT: count(5, 1, 1000),
  /** The browser demo page at / and its /assets; unset: off in production, on otherwise. */
  DEMO_PAGE: z.enum(['on', 'off']).optional(),

  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,32}$/, 'expected up to 32 letters, digits, ":", "_" or "-"').default('jts:'),
  REDIS_COMMAND_TIMEOUT: milliseconds(1000, 50, 60_000),
  /** host:port,host:port — a Redis Cluster (some of its nodes; the rest are discovered). */
  REDIS_CLUSTER_NODES: hostPortList,
  /** host:port,host:port — Sentinels that know the master named REDIS_SENTINEL_NAME. */
  REDIS_SENTINELS: hostPortList,
  REDIS_SENTINEL_NAME: optionalString,
  /** Password of the Redis data nodes in Cluster or Sentinel mode (a REDIS_URL carries its own). */
  REDIS_PASSWORD: optionalString,

  /** postgres://… — the accounts' system of record; unset: embedded PGlite under DATA_DIR (not in production). */
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// or postgresql:// URL'),
  /** Bound on connecting to PostgreSQL and on each query, so an outage answers 503 instead of hanging. */
  DATABASE_TIMEOUT: milliseconds(5000, 100, 600_000),
  DATABASE_POOL_MAX: count(10, 1, 1000),
  /** Where the embedded PGlite database (and its lock file) lives when DATABASE_URL is unset. */
  DATA_DIR: z.string().min(1).default('./data'),

  BCRYPT_ROUNDS: count(12, 4, 17),
  /** Password hashes running or waiting at once, server-wide; more are answered 503. */
  BCRYPT_MAX_PENDING: count(64, 1, 10_000),
  CORS_ORIGINS: list,
  TRUST_PROXY: z.string().default('false'),
  BODY_LIMIT: z.string().regex(/^[1-9][0-9]*(b|kb|mb)$/i, 'expected a size such as 16kb').default('16kb'),
  CORS_MAX_AGE: seconds(600, 0, 86_400),

  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_LOGIN_IP: rateLimit('20/1m'),
  RATE_LIMIT_LOGIN_IP_ATTEMPTS: rateLimit('120/1m'),
  RATE_LIMIT_LOGIN_ACCOUNT: rateLimit('5/15m'),
  RATE_LIMIT_REGISTER: rateLimit('10/1h'),
  RATE_LIMIT_RENEW: rateLimit('120/1m'),
  RATE_LIMIT_PASSWORD: rateLimit('10/15m'),
  /** Token exchanges (RFC 8693) per user, whatever client or address asks. */
  RATE_LIMIT_TOKEN_EXCHANGE: rateLimit('10/15m'),
  /** Introspection calls per service client. */
  RATE_LIMIT_INTROSPECT: rateLimit('1200/1m'),
  /** Mails asked for per client IP (forgot password, sign-in code, verification resend). */
  RATE_LIMIT_MAIL_IP: rateLimit('10/15m'),
  /** Mails asked for per account (by normalised email or account id): the brake on a mail bomb. Unknown clients share it; each known device has its own (README, "Rate limits"). */
  RATE_LIMIT_MAIL_ACCOUNT: rateLimit('3/15m'),
  /** Wrong sign-in codes per account over a long window, from any address (review M2: 6 digits); unknown clients share it, each known device has its own. */
  RATE_LIMIT_CODE_ACCOUNT: rateLimit('10/24h'),

  /** required: an unverified account signs in only to verify; optional: verification offered; off: never asked. */
  JTS_EMAIL_VERIFICATION: z.enum(['required', 'optional', 'off']).default('optional'),
  /** Lifetimes of emailed challenges. */
  JTS_RESET_TOKEN_LIFETIME: seconds(1800, 60, 86_400),
  JTS_VERIFY_TOKEN_LIFETIME: seconds(86_400, 300, 604_800),
  JTS_LOGIN_CODE_LIFETIME: seconds(600, 60, 3600),
  /** How recent the sign-in must be to add or remove a second factor (the session's sign-in time). */
  JTS_FRESH_AUTH_MAX_AGE: seconds(300, 30, 86_400),
  /** Permissions a BearerPass carries only when its sign-in used a second factor (`mfa` in `amr`). */
  JTS_MFA_REQUIRED_FOR: list,
  /** The WebAuthn relying party id (a domain); unset: the issuer's host name. */
  JTS_WEBAUTHN_RP_ID: optionalString,
  /** Comma list of the exact origins whose pages use passkeys; unset: the issuer's origin. */
  JTS_WEBAUTHN_ORIGINS: list,
  /** The name browsers show when a passkey is created; unset: MAIL_PRODUCT_NAME. */
  JTS_WEBAUTHN_RP_NAME: z.string().trim().max(60).regex(/^[^\r\n<>]*$/, 'expected one line without < or >').optional(),
  /** New sign-in notices (README, "Security notices"); unset: on when SMTP_URL is set or JTS_SESSION_POLICY=notify. */
  JTS_SIGN_IN_NOTICES: z.enum(['on', 'off']).optional(),
  /** How long a device counts as known after its last sign-in (90 days). */
  JTS_SIGN_IN_NOTICE_WINDOW: seconds(7_776_000, 3600, 31_536_000),
  /** How long a notice's "this wasn't me" link works (7 days). */
  JTS_NOT_ME_TOKEN_LIFETIME: seconds(604_800, 3600, 2_592_000),
  /** `<count>/<window>`: from this many failed sign-ins to one account from unknown devices within the window, unknown devices need an emailed code; `off`: never. */
  JTS_RISK_FAILED_SIGN_INS: z.union([z.literal('off'), rateLimit('3/15m')]),
  /** Where the links in mails point (the demo page reads their fragment); defaults to the issuer. */
  PUBLIC_URL: optionalString.refine((v) => v === undefined || ['http:', 'https:'].includes(schemeOf(v) ?? ''), 'expected an http:// or https:// URL'),
  /** smtp://[user:password@]host:port or smtps:// (TLS); unset outside production: the development outbox. */
  SMTP_URL: optionalString.refine((v) => v === undefined || ['smtp:', 'smtps:'].includes(schemeOf(v) ?? ''), 'expected smtp://[user:password@]host:port, or smtps:// for TLS'),
  /** The From of every mail, e.g. "Example Auth <no-reply@example.com>". */
  MAIL_FROM: optionalString.refine((v) => v === undefined || !/[\r\n]/.test(v), 'expected one line'),
  /** The product name mails are signed with. */
  MAIL_PRODUCT_NAME: z.string().trim().min(1).max(60).regex(/^[^\r\n<>]*$/, 'expected one line without < or >').default('JTS Auth'),

  /** Operator webhooks (README "Operator webhooks"): receivers' URLs, comma-separated; unset: off. */
  JTS_WEBHOOK_URLS: list,
  /** whsec_<base64 of 24–64 random bytes>: the Standard Webhooks signing secret (never logged). */
  JTS_WEBHOOK_SECRET: optionalString,
  /** Plain http:// receivers beyond loopback (a private network); off by default. */
  JTS_WEBHOOK_ALLOW_HTTP: bool(false),
  /** Bound on one delivery attempt. */
  JTS_WEBHOOK_TIMEOUT: milliseconds(10_000, 100, 120_000),
  /** Wait after the first failed attempt; doubled after each further one, up to JTS_WEBHOOK_RETRY_MAX_DELAY. */
  JTS_WEBHOOK_RETRY_BASE: milliseconds(5000, 10, 3_600_000),
  JTS_WEBHOOK_RETRY_MAX_DELAY: milliseconds(3_600_000, 10, 86_400_000),
  /** Attempts in all before a delivery is dead-lettered. */
  JTS_WEBHOOK_MAX_ATTEMPTS: count(12, 1, 100),
  /** How often the stream is copied into the outbox and due deliveries are looked for. */
  JTS_WEBHOOK_POLL: milliseconds(1000, 10, 60_000),

  METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, 'expected at least 16 characters (or leave empty for an open /metrics)'),

  HTTP_REQUEST_TIMEOUT: milliseconds(30_000, 1000, 600_000),
  HTTP_HEADERS_TIMEOUT: milliseconds(15_000, 1000, 600_000),
  HTTP_KEEP_ALIVE_TIMEOUT: milliseconds(61_000, 0, 600_000),
  SHUTDOWN_TIMEOUT: milliseconds(10_000, 0, 600_000),
  SHUTDOWN_DELAY: milliseconds(0, 0, 60_000),
});

export type Env = z.infer<typeof envSchema>;
