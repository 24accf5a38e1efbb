import type { Request } from 'express';
import { HttpError } from './errors.js';

/**
 * A body that arrived but was not parsed: express.json reads only `application/json`, so the
 * Content-Type is the cause, not the body. Undefined when there is no body, or it was parsed.
 */
export function unparsedBodyError(req: Request): HttpError | undefined {
  if (req.body !== undefined || !hasBody(req)) return undefined;
  const contentType = req.headers['content-type'];
  const message =
    contentType === undefined || contentType.trim() === ''
      ? 'The Content-Type header is missing; send the body as application/json.'
      : `The Content-Type ${JSON.stringify(contentType.split(';')[0]?.trim() ?? '')} is not supported; send the body as application/json.`;
  return new HttpError('unsupported_media_type', { message });
}

/** As type-is's hasBody: chunked, or a Content-Length other than 0. */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
