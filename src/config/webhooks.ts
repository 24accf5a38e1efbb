/**
 * Operator webhooks' settings (README "Operator webhooks"): checked here once, so the delivery code
 * only ever sees usable URLs and a usable secret.
 */

import type { RetrySchedule } from '../accounts/outbox-queue.js';

export type { RetrySchedule } from '../accounts/outbox-queue.js';

export interface WebhookSettings {
  /** Receivers' URLs; every event goes to each. */
  endpoints: string[];
  /** `whsec_<base64>`: never logged. */
  secret: string;
  /** Bound on one POST (ms). */
  timeoutMs: number;
  retry: RetrySchedule;
  /** How often the relay reads the stream and the worker looks for due rows (ms). */
  pollMs: number;
}

export interface WebhookInputs {
  urls: string[];
  secret: string | undefined;
  allowHttp: boolean;
  timeoutMs: number;
  retry: RetrySchedule;
  pollMs: number;
  /** DATABASE_URL set, or a PGlite folder on disk (not `memory://`): the outbox survives a restart. */
  persistentDatabase: boolean;
}

/** Standard Webhooks: a `whsec_` prefix and 24 to 64 random bytes in base64. */
const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** undefined when no URL is set (webhooks off); else the settings, or every problem found. */
export function webhookSettings(inputs: WebhookInputs): { settings: WebhookSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  if (inputs.urls.length === 0) return { settings: undefined, problems };
  const endpoints: string[] = [];
  for (const raw of inputs.urls) {
    const problem = urlProblem(raw, inputs.allowHttp);
    // A URL may carry a receiver's token in its query: shown as scheme://host/path only.
    if (problem !== undefined) problems.push(`JTS_WEBHOOK_URLS=${JSON.stringify(shownUrl(raw))}: ${problem}`);
    else if (endpoints.includes(raw)) problems.push(`JTS_WEBHOOK_URLS=${JSON.stringify(shownUrl(raw))}: listed twice`);
    else endpoints.push(raw);
  }
  const secret = inputs.secret;
  const key = secret === undefined ? undefined : SECRET.exec(secret)?.[1];
  const bytes = key === undefined ? 0 : Buffer.from(key, 'base64').length;
  if (secret === undefined) problems.push('JTS_WEBHOOK_SECRET="": webhooks are signed; set a secret, e.g. the output of `npm run webhooks -- new-secret` (whsec_ followed by 32 random bytes in base64)');
  else if (key === undefined || bytes < 24 || bytes > 64) problems.push('JTS_WEBHOOK_SECRET=<redacted>: expected whsec_ followed by 24 to 64 random bytes in base64 (`npm run webhooks -- new-secret` makes one)');
  if (!inputs.persistentDatabase) {
    problems.push('JTS_WEBHOOK_URLS: webhooks need a database that survives a restart (their outbox lives in it); set DATABASE_URL, or a DATA_DIR on disk instead of memory://');
  }
  if (problems.length > 0) return { settings: undefined, problems };
  return { settings: { endpoints, secret: secret as string, timeoutMs: inputs.timeoutMs, retry: inputs.retry, pollMs: inputs.pollMs }, problems };
}

function urlProblem(raw: string, allowHttp: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'expected an https:// URL';
  }
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are refused (they would reach logs); receivers authenticate the sender by the signature';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'expected an https:// URL';
  if (allowHttp || isLoopback(url.hostname)) return undefined;
  return 'plain http is refused except on loopback (events name users and sessions); use https://, or set JTS_WEBHOOK_ALLOW_HTTP=true for a private network';
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A receiver URL as logs and errors show it: no query (tokens), no credentials. */
export function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '<unparsable URL>';
  }
}
