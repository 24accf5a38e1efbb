import type { ServerResponse } from 'node:http';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON document serialised once, for answers that do not change while the process runs (the
 * key set, the discovery and OpenAPI documents): no `JSON.stringify` per request.
 */
export class PreparedJson {
  readonly text: string;
  readonly byteLength: number;

  constructor(
    value: unknown,
    readonly contentType: string = JSON_CONTENT_TYPE,
  ) {
    this.text = JSON.stringify(value);
    this.byteLength = Buffer.byteLength(this.text);
  }
}

/**
 * Every JSON answer: the server's routes and error handler, and the verifier middleware other
 * services mount (which is why it lives here and not in src/http, which the library must not
 * reach). It sends what `res.status(status).json(body)` would, without Express's send(): its
 * charset rewriting, ETag hook and freshness check do nothing for us (ETags are off, no answer is
 * conditional) and cost ~30 µs per request on the bench machine (public,
 * bench/results/2026-11-22-send-json.md). Content-Length is set here because Node leaves it out of
 * a HEAD answer, which should carry the GET's headers; Node drops a HEAD's body itself.
 * test/http/send-json.test.ts compares its output with Express's own `res.json`.
 */
export function sendJson(res: ServerResponse, status: number, body: object, headers?: Readonly<Record<string, string>>): void {
  const prepared = body instanceof PreparedJson ? body : undefined;
  if (status >= 400 && !prepared && 'error' in body && typeof body.error === 'string') errorKeys.set(res, body.error);
  const text = prepared ? prepared.text : JSON.stringify(body);
  res.statusCode = status;
  if (headers) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Type', prepared ? prepared.contentType : JSON_CONTENT_TYPE);
  res.setHeader('Content-Length', prepared ? prepared.byteLength : Buffer.byteLength(text));
  res.end(text);
}

/** The `error` member of the error bodies sent, by response: the request log names it. */
const errorKeys = new WeakMap<ServerResponse, string>();

/** The `error` key of the error body `res` was answered with, if sendJson sent one. */
export function errorKeyOf(res: ServerResponse): string | undefined {
  return errorKeys.get(res);
}

/** For answers about one user or one session, which no cache may keep. */
export const NO_STORE: Readonly<Record<string, string>> = { 'Cache-Control': 'no-store' };
