import type { ErrorRequestHandler } from 'express';
import { isCodedError, type ErrorBody } from '../errors.js';
import { sendJson } from './send-json.js';

export interface ErrorHandlerOptions {
  /** Sees every error answered 500 (a bug of the service): log it here, with its stack. */
  onError?: (error: unknown) => void;
}

/**
 * A final error handler that answers in the JSON error shape, never with Express's HTML page or a
 * stack trace: a coded error (JtsError, StepUpError) as its own body; a client error Express or
 * body-parser raised (an `http-errors` object with a 4xx `status` and `expose`) with its status;
 * anything else as a generic 500, whose details go only to `onError`. Mount it last.
 */
export function jtsErrorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return function handleJtsError(error: unknown, _req, res, next) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const now = Date.now();
    if (isCodedError(error)) {
      const headers: Record<string, string> = {};
      if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
      if (error.status === 401) headers['WWW-Authenticate'] = `Bearer error="${error.key}"`;
      sendJson(res, error.status, error.toBody(now), headers);
      return;
    }
    const status = clientErrorStatus(error);
    if (status !== undefined) {
      const exposed = (error as { expose?: unknown; message?: unknown }).expose === true && typeof (error as { message?: unknown }).message === 'string';
      const body: ErrorBody = { error: 'invalid_request', message: exposed ? (error as { message: string }).message : 'The request is invalid.', action: 'none', timestamp: Math.floor(now / 1000) };
      sendJson(res, status, body);
      return;
    }
    options.onError?.(error);
    const body: ErrorBody = { error: 'internal_error', message: 'Internal server error.', action: 'retry', timestamp: Math.floor(now / 1000) };
    sendJson(res, 500, body);
  };
}

function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500 ? value : undefined;
}
