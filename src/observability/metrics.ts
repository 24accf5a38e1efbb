import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent, AuditSink } from '../auth/audit.js';

/**
 * The Prometheus metrics of one app instance. Each instance owns its registry (never prom-client's
 * global one), so tests can build many apps in one process and two servers never mix counts.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Counts what an audit event says happened; audit events are the single source of truth. */
  observe(event: AuditEvent): void;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC); off in tests that build many apps. */
  defaultMetrics?: boolean;
}

/** Buckets in seconds: bcrypt at cost 12 takes ~250 ms, so the upper buckets matter for login. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const logins = new Counter({ name: 'jts_logins_total', help: 'Password logins by result.', labelNames: ['result'] as const, registers: [registry] });
  const registrations = new Counter({ name: 'jts_registrations_total', help: 'Accounts created through /jts/register.', registers: [registry] });
  const renewals = new Counter({
    name: 'jts_renewals_total',
    help: 'StateProof renewals by outcome: rotated, grace (same answer inside the window), replay (session revoked), invalid.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const revocations = new Counter({
    name: 'jts_session_revocations_total',
    help: 'Sessions ended other than by expiry, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'jts_store_errors_total',
    help: 'Requests that met an unreachable session/user/rate-limit store, by operation.',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const adminActions = new Counter({
    name: 'jts_admin_actions_total',
    help: 'User and client administration (admin API) by action and outcome.',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  const oauthTokens = new Counter({
    name: 'jts_oauth_tokens_total',
    help: '/jts/token outcomes: tokens issued by grant (client_credentials, token_exchange), and failed client authentications (grant client_auth).',
    labelNames: ['grant', 'outcome'] as const,
    registers: [registry],
  });
  const hashingBusy = new Counter({ name: 'jts_hashing_busy_total', help: 'Sign-ins refused with 503 because every password hashing slot was taken.', registers: [registry] });
  const challenges = new Counter({
    name: 'jts_challenges_total',
    help: 'Emailed challenges (verify-email, reset-password, sign-in-code) by outcome: issued, skipped (no usable account), consumed, refused.',
    labelNames: ['purpose', 'outcome'] as const,
    registers: [registry],
  });
  const secondFactors = new Counter({
    name: 'jts_mfa_events_total',
    help: 'Second-factor, passkey and step-up events by audit event name (mfa.required, mfa.succeeded, mfa.failed, mfa.factor.added, passkey.refused, passkey.cloned, reauth.failed, …).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const signInRisk = new Counter({
    name: 'jts_sign_in_risk_events_total',
    help: 'New sign-in notices and risk step-up by audit event name (sign_in.new_device, sign_in.notice_suppressed, theft_alert.suppressed, sign_in.reported, risk.threshold, risk.step_up).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const rateLimited = new Counter({ name: 'jts_rate_limited_total', help: 'Requests refused with 429, by limiter.', labelNames: ['limiter'] as const, registers: [registry] });

  // Pre-set the label values a dashboard expects, so a rate() over them exists from the first scrape.
  for (const result of ['ok', 'failed']) logins.inc({ result }, 0);
  for (const outcome of ['rotated', 'grace', 'replay', 'invalid']) renewals.inc({ outcome }, 0);

  function observe(event: AuditEvent): void {
    switch (event.event) {
      case 'login.succeeded':
        logins.inc({ result: 'ok' });
        return;
      case 'login.failed':
        logins.inc({ result: 'failed' });
        return;
      case 'register':
        registrations.inc();
        return;
      case 'renew':
        renewals.inc({ outcome: 'rotated' });
        return;
      case 'renew.grace':
        renewals.inc({ outcome: 'grace' });
        return;
      case 'renew.rejected':
        renewals.inc({ outcome: 'invalid' });
        return;
      case 'replay.detected':
        renewals.inc({ outcome: 'replay' });
        revocations.inc({ reason: 'replay' }, event.revoked.length);
        return;
      case 'logout':
        if (event.ended) revocations.inc({ reason: 'logout' });
        return;
      case 'logout.rejected':
        return;
      case 'session.revoked':
        if (event.aids.length > 0) revocations.inc({ reason: event.reason }, event.aids.length);
        return;
      case 'password.changed':
      case 'password.rehashed':
      case 'password.reset':
      case 'email.verified':
      case 'email.changed':
      case 'email.change_refused':
        return;
      case 'challenge.issued':
        challenges.inc({ purpose: event.purpose, outcome: 'issued' });
        return;
      case 'challenge.skipped':
        challenges.inc({ purpose: event.purpose, outcome: 'skipped' });
        return;
      case 'challenge.consumed':
        challenges.inc({ purpose: event.purpose, outcome: 'consumed' });
        return;
      case 'challenge.refused':
        challenges.inc({ purpose: event.purpose, outcome: 'refused' });
        return;
      case 'rate_limited':
        rateLimited.inc({ limiter: event.limiter });
        return;
      case 'store.unavailable':
        storeErrors.inc({ operation: event.operation });
        return;
      case 'admin.action':
        adminActions.inc({ action: event.action, outcome: event.outcome });
        return;
      case 'client.auth_failed':
        oauthTokens.inc({ grant: 'client_auth', outcome: 'failed' });
        return;
      case 'token.issued':
        oauthTokens.inc({ grant: 'client_credentials', outcome: 'issued' });
        return;
      case 'token.exchanged':
        oauthTokens.inc({ grant: 'token_exchange', outcome: 'issued' });
        return;
      case 'hashing.busy':
        hashingBusy.inc();
        return;
      case 'sign_in.new_device':
      case 'sign_in.notice_suppressed':
      case 'theft_alert.suppressed':
      case 'sign_in.reported':
      case 'risk.threshold':
      case 'risk.step_up':
        signInRisk.inc({ event: event.event });
        return;
      case 'mfa.enrolment.started':
      case 'mfa.factor.added':
      case 'mfa.factor.removed':
      case 'mfa.required':
      case 'mfa.succeeded':
      case 'mfa.failed':
      case 'mfa.recovery_code.used':
      case 'passkey.added':
      case 'passkey.removed':
      case 'passkey.renamed':
      case 'passkey.refused':
      case 'passkey.cloned':
      case 'mfa.enrolment.required':
      case 'reauth.succeeded':
      case 'reauth.failed':
        secondFactors.inc({ event: event.event });
        return;
    }
  }

  return { registry, httpDuration, observe };
}

/** An audit sink that also counts each event. */
export function countingAudit(sink: AuditSink, metrics: Metrics): AuditSink {
  return function auditAndCount(event) {
    metrics.observe(event);
    sink(event);
  };
}
