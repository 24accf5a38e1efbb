import type { RequestHandler } from 'express';
import { bearerTokenOf } from '../authorization-header.js';
import { JtsError } from '../errors.js';
import type { Verifier } from '../remote-verifier.js';
import './request-context.js';
import { sendJson } from './send-json.js';

/**
 * Express middleware for another service: verifies the BearerPass with a `createVerifier()`
 * and sets `req.jts`, or answers with the JTS error body. It sees revocations only through a
 * verifier subscribed to the security-event feed (`events`); otherwise a BearerPass stays valid
 * here until it expires.
 */
export function requireBearerPass(verifier: Verifier): RequestHandler {
  return async function verifyBearerPass(req, res, next) {
    const token = bearerTokenOf(req.get('authorization'));
    const result = token === undefined ? { ok: false as const, error: new JtsError('JTS-401-03', { message: 'A BearerPass is required.' }) } : await verifier.verify(token);
    if (!result.ok) {
      const { error } = result;
      const headers: Record<string, string> = {};
      if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
      // RFC 6750 §3: a 401 names the scheme to use; the error key is the server's own, as its answers have it.
      if (error.status === 401) headers['WWW-Authenticate'] = `Bearer error="${error.key}"`;
      sendJson(res, error.status, error.toBody(), headers);
      return;
    }
    req.jts = { payload: result.payload, header: result.header, bearerPass: token ?? '' };
    next();
  };
}
