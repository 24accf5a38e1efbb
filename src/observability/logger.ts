import pino, { type Logger } from 'pino';
import { redactUrlCredentials } from '../config/redact.js';

/**
 * Paths that may carry a credential. Request lines carry no headers (request-observer.ts) and bodies
 * are never logged, but the paths are listed anyway in case a caller logs one.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-jts-stateproof"]',
  'req.headers["x-jts-device-id"]',
  'req.headers["x-metrics-token"]',
  'res.headers["set-cookie"]',
  'password',
  'currentPassword',
  'newPassword',
  'bearerPass',
  'stateProof',
  '*.password',
  '*.bearerPass',
  '*.stateProof',
];

export interface LoggerOptions {
  level: string;
  pretty: boolean;
  /** Where lines go; tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

/**
 * Any logged error, as pino's own serializer writes it, with URL passwords in its message and stack
 * replaced by `***`: a client library may quote the URL it was given (ioredis does).
 */
export function serializeError(value: unknown): unknown {
  const serialized: unknown = value instanceof Error ? pino.stdSerializers.err(value) : value;
  if (typeof serialized !== 'object' || serialized === null) return typeof serialized === 'string' ? redactUrlCredentials(serialized) : serialized;
  const out: Record<string, unknown> = { ...serialized };
  for (const key of ['message', 'stack']) {
    const text = out[key];
    if (typeof text === 'string') out[key] = redactUrlCredentials(text);
  }
  return out;
}

export function createLogger(options: LoggerOptions): Logger {
  const base: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    base: { service: 'jts-auth-server' },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } });
  return pino(base);
}
