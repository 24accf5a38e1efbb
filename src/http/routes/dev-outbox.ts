import { Router } from 'express';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';

/** One mail as the outbox lists it (mail/outbox.ts). */
export interface OutboxMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The mail's kind, as its `X-JTS-Mail-Kind` header says (`sign-in-code`, `new-sign-in`…). */
  kind: string;
  /** ISO 8601 UTC. */
  sentAt: string;
}

export interface OutboxListing {
  list(): OutboxMail[];
}

/**
 * GET /dev/outbox: the mails the development outbox kept, newest first, as `{ mails: [...] }`.
 * Registered only outside production (app.ts) and only without SMTP_URL: its bodies hold working
 * links and codes. Not part of the OpenAPI document, which describes the production API.
 */
export function devOutboxRoutes(deps: { outbox: OutboxListing }): Router {
  const router = Router();
  router.get('/dev/outbox', (_req, res) => {
    sendJson(res, 200, { mails: deps.outbox.list().map(({ to, kind, subject, text, html, sentAt }) => ({ to, kind, subject, text, html, sentAt })) }, NO_STORE);
  });
  return router;
}
