import type { Response } from 'express';

/**
 * Every JSON answer of this server. It sends what `res.status(status).json(body)` would, without
 * Express's send(): its charset rewriting, ETag hook and freshness check do nothing for us (ETags
 * are off, no answer is conditional) and cost ~30 µs per request on the bench machine (public,
 * bench/results/2026-11-22-send-json.md). Content-Length is set here because Node leaves it out of
 * a HEAD answer, which should carry the GET's headers; Node drops a HEAD's body itself.
 */
export function sendJson(res: Response, status: number, body: object, headers?: Readonly<Record<string, string>>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** For answers about one user or one session, which no cache may keep. */
export const NO_STORE: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' };
