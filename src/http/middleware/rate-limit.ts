import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type AugmentedRequest, type Options } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { AuditSink } from '../../auth/audit.js';
import { canonicalIp } from '../../auth/client-info.js';
import type { RateLimitRule, RateLimitSettings } from '../../config/load.js';
import type { RateLimitStoreFactory } from '../../redis/rate-limit-store.js';
import { normaliseEmail } from '../../users/types.js';
import { EMAIL_MAX_LENGTH } from '../fields.js';
import type { AuthRouteDeps } from '../routes/auth.js';
import type { KnownDevices } from './known-device.js';
import { HttpError } from '../errors.js';
import { FIRST_FACTOR_ACCEPTED, signInEmailOf } from './sign-in-account.js';

export interface RateLimitDeps {
  rules: RateLimitSettings;
  stores: RateLimitStoreFactory;
  audit: AuditSink;
  logger: Logger;
  /** When given, a browser that logged in to the account before has its own failure counter. */
  knownDevices?: KnownDevices;
  /**
   * Whether a validly signed known-device value of `email` is still among the account's recorded
   * devices (JTSAuthServer.knownDeviceStillRecorded): asked before the mail and code budgets trust it.
   */
  stillKnown?: (email: string, nonce: string) => Promise<boolean>;
}

/**
 * The per-route limits of /jts: login per IP and per account, register, renew and password
 * change per IP, mails per IP and per address, link redemption per IP. Throttling, not lockout: every counter is a fixed window that simply expires,
 * and the per-account one counts only failed logins (401), so nothing ever needs unlocking.
 */
export function authRateLimits(deps: RateLimitDeps): AuthRouteDeps['limits'] {
  const { rules, knownDevices } = deps;
  // Without limits a signed-in browser still gets its known-device cookie: the new sign-in notice
  // and the risk step-up recognise the owner's devices by it.
  if (!rules.enabled) return knownDevices ? { loginAccount: [knownDevices.remember], codeLoginAccount: [knownDevices.remember] } : {};
  const limiter = (name: string, rule: RateLimitRule, extra: Partial<Options> = {}) => createLimiter(name, rule, deps, extra);

  // The known device a mail or code request shows, once per request (two limiters ask): a validly
  // signed value only while the account still records it, so the values of an intruder reported by
  // "this wasn't me" draw on the unknown clients' budget, not on the owner's devices' ceiling.
  const recorded = new WeakMap<Request, Promise<string | undefined>>();
  const recordedDevice = (req: Request): Promise<string | undefined> => {
    const cached = recorded.get(req);
    if (cached) return cached;
    const email = emailOf(req);
    const nonce = email === undefined ? undefined : knownDevices?.recognise(req, email);
    const found =
      email === undefined || nonce === undefined || deps.stillKnown === undefined
        ? Promise.resolve(nonce)
        : deps.stillKnown(email, nonce).then(
            (still) => (still ? nonce : undefined),
            (error: unknown) => {
              // The accounts store is down (the route itself answers 503 or mails nothing): the
              // signature alone decides, as before the devices were recorded.
              deps.logger.warn({ err: error }, 'known-device check failed; trusting the signature');
              return nonce;
            },
          );
    recorded.set(req, found);
    return found;
  };

  /**
   * A per-account budget strangers cannot spend for the owner: unknown clients share the account's
   * counter (`name`), each known device of the account has one of its own under the same rule, and
   * the known devices together have a ceiling (`<name>-known`, KNOWN_DEVICES_SHARE times the rule)
   * so that what reaches one account (mails, code guesses) stays bounded however many known-device
   * values someone holds: at most 1 + KNOWN_DEVICES_SHARE times the rule per window.
   */
  const perKnownDevice = (name: string, rule: RateLimitRule, namespace: string, extra: Partial<Options>): RequestHandler[] => [
    limiter(name, rule, {
      ...extra,
      skip: (req) => emailOf(req) === undefined,
      keyGenerator: async (req) => accountKey(req, namespace, await recordedDevice(req)),
    }),
    limiter(`${name}-known`, { ...rule, limit: rule.limit * KNOWN_DEVICES_SHARE }, {
      ...extra,
      skip: async (req) => (await recordedDevice(req)) === undefined,
      keyGenerator: (req) => `${accountKey(req, namespace)}:known`,
    }),
  ];

  // Only wrong credentials count as failures: a 400, a 429 from another limiter or a 503 is not a guess.
  // An `mfa_required` 401 is a right password (and a wrong second-factor code is a 401 like a wrong password).
  const failuresOnly: Partial<Options> = { skipSuccessfulRequests: true, requestWasSuccessful: (_req, res) => res.statusCode !== 401 || res.locals[FIRST_FACTOR_ACCEPTED] === true };

  // Failed sign-ins per account, from one client: keyed by the address, and by the known device
  // when the client shows one of that account (the owner's device keeps its own budget).
  const failuresPerAccount = (name: string, namespace: string) =>
    limiter(name, rules.loginAccount, {
      ...failuresOnly,
      skip: (req) => emailOf(req) === undefined,
      keyGenerator: (req) => accountKey(req, namespace, knownDevices?.recognise(req, emailOf(req) ?? '')),
    });
  const loginAccount = failuresPerAccount('login-account', '');
  // Wrong emailed codes are throttled as wrong passwords are, on a budget of their own: a stranger's
  // wrong passwords (the risk step-up's trigger) must not shut the owner's emailed way in from a new
  // device, the lockout the step-up replaces.
  const codeLoginAccount = failuresPerAccount('code-login-account', 'code-login:');

  // Every other place that checks a secret of an account (today the current password of a
  // password change) counts its failures per account under the same rule as a login, keyed by the
  // authenticated account, so a stolen BearerPass cannot guess from many addresses.
  const passwordAccount = limiter('password-account', rules.loginAccount, {
    ...failuresOnly,
    keyGenerator: (req) => createHash('sha256').update(`prn:${req.jts?.payload.prn ?? ''}`).digest('base64url').slice(0, 32),
  });

  // Mails per address asked for (a mail bomb against one inbox is throttled; the 429 says nothing
  // about the account). Shared by every route that mails by address, so forgot-password and sign-in
  // codes draw on one budget. Unknown clients share the address's budget; a client showing a known
  // device of the account has its own (perKnownDevice), else a stranger who knows the address could
  // keep it spent and the owner would never get a code or a reset link.
  const mailAccount = perKnownDevice('mail-account', rules.mailAccount, 'email:', {});
  // A 6-digit code falls to ~1 in 10^6 per guess: besides the login limits (a short window), wrong
  // codes are counted per account over a long one, from any address (review M2). Failures only,
  // so the owner's right code always counts for nothing. Per known device as the mails are: with
  // one budget for every client, a stranger's ten wrong codes shut the owner's code sign-in for a day.
  const codeAccount = perKnownDevice('code-account', rules.codeAccount, 'code:', failuresOnly);
  // The same long budget for the codes a signed-in session presents (POST /jts/reauth), counted per
  // principal: the BearerPass names the account, not its address (security review: the password
  // limits alone let a stolen session guess ~480 TOTP codes a day).
  const codePrincipal = limiter('code-principal', rules.codeAccount, {
    ...failuresOnly,
    skip: (req) => !presentsCode(req.body),
    keyGenerator: (req) => createHash('sha256').update(`code-prn:${req.jts?.payload.prn ?? ''}`).digest('base64url').slice(0, 32),
  });
  const mailResend = limiter('mail-resend', rules.mailAccount, {
    keyGenerator: (req) => createHash('sha256').update(`prn:${req.jts?.payload.prn ?? ''}`).digest('base64url').slice(0, 32),
  });

  return {
    // Failures per address (credential stuffing), and a generous ceiling on every attempt, which
    // bounds the hashing one address can cause: an office behind one NAT keeps signing in.
    login: [limiter('login-ip-attempts', rules.loginIpAttempts), limiter('login-ip', rules.loginIp, failuresOnly)],
    loginAccount: [loginAccount, ...(knownDevices ? [knownDevices.remember] : [])],
    codeLoginAccount: [codeLoginAccount, ...(knownDevices ? [knownDevices.remember] : [])],
    register: [limiter('register-ip', rules.register)],
    renew: [limiter('renew-ip', rules.renew)],
    password: [limiter('password-ip', rules.password), passwordAccount],
    mail: [limiter('mail-ip', rules.mailIp)],
    mailAccount,
    mailResend: [mailResend],
    codeAccount,
    codePrincipal: [codePrincipal],
    // Link tokens are 256 random bits: the per-IP ceiling only bounds the work (a lookup, a bcrypt) one address causes.
    token: [limiter('token-ip', rules.password)],
  };
}

/** One express-rate-limit limiter with the project's store, headers, audit line and 429 body. */
export function createLimiter(name: string, rule: RateLimitRule, deps: RateLimitDeps, extra: Partial<Options>): RequestHandler {
  const { audit, logger } = deps;
  return rateLimit({
    windowMs: rule.windowMs,
    limit: rule.limit,
    // draft-8 names each policy and appends, so a route behind two limiters reports both.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    store: deps.stores(name),
    // Per client address by default (the per-account limiter brings its own key): IPv4 as is, an
    // IPv4-mapped IPv6 address as the IPv4 one (else every IPv4 client of a dual-stack socket would
    // share one /56 counter), other IPv6 by /56 as express-rate-limit does.
    keyGenerator: (req) => ipKeyGenerator(canonicalIp(req.ip) ?? 'unknown'),
    // Counters are a brake, not a lock: when their store is down the request goes on (logged);
    // the session store itself still fails closed.
    passOnStoreError: true,
    logger: {
      warn: (error, message) => {
        logger.warn({ err: error, limiter: name }, message ?? 'rate limiter warning');
      },
      error: (error, message) => {
        logger.warn({ err: error, limiter: name }, message ?? 'rate limiter error');
      },
    },
    handler(req, _res, next) {
      audit({ event: 'rate_limited', limiter: name });
      next(new HttpError('rate_limited', { retryAfter: retryAfterSeconds(req, rule), message: 'Too many requests; try again later.' }));
    },
    ...extra,
  });
}

function retryAfterSeconds(req: Request, rule: RateLimitRule): number {
  const reset = (req as AugmentedRequest).rateLimit?.resetTime;
  const ms = reset === undefined ? rule.windowMs : reset.getTime() - Date.now();
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Whether a (parsed) body carries a second-factor code: `code` or `recoveryCode`. */
function presentsCode(body: unknown): boolean {
  return typeof body === 'object' && body !== null && ('code' in body || 'recoveryCode' in body);
}

/**
 * How many times a per-account rule's budget the known devices of one account have together (each
 * has the rule's own): room for the owner's phone, laptop and tablet to ask at once, while the
 * holder of many known-device values (someone who signed in to the account many times) gets no more.
 */
const KNOWN_DEVICES_SHARE = 2;

/**
 * A per-account counter key: the address hashed under `namespace` (counter keys in Redis name no
 * account), and the known device's nonce when the client shows one of that account.
 */
function accountKey(req: Request, namespace: string, device?: string): string {
  const account = createHash('sha256').update(`${namespace}${emailOf(req) ?? ''}`).digest('base64url').slice(0, 32);
  return device === undefined ? account : `${account}:d:${device}`;
}

function emailOf(req: Request): string | undefined {
  const email = signInEmailOf(req);
  if (typeof email !== 'string') return undefined;
  // Normalised exactly as the login route and the store will see it, so padding or case cannot
  // give one account several counters. Longer values are refused by the body schema (400).
  const normalised = normaliseEmail(email);
  return normalised !== '' && normalised.length <= EMAIL_MAX_LENGTH ? normalised : undefined;
}
