import type { Request } from 'express';
import { HttpError } from './errors.js';

/** The media type of every OAuth request body (RFC 6749 §4.4.2, RFC 7662 §2.1, RFC 8693 §2.1). */
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/**
 * The parameters of an OAuth request body, read with the WHATWG URL parser (URLSearchParams): no
 * nested objects or arrays to be surprised by, unlike `qs`. RFC 6749 §3.1: a parameter sent
 * without a value is treated as omitted, and a parameter must not be sent twice (a repeat is
 * `invalid_request`, never "first one wins": two parts of a stack must not read different values).
 */
export class OAuthForm {
  private constructor(private readonly params: URLSearchParams) {}

  /**
   * The form of a request whose body `express.text({ type: FORM_MEDIA_TYPE })` read. Any other
   * body (JSON, none at all) is `invalid_request`: OAuth clients understand that code, where a
   * 415 would leave them guessing.
   */
  static of(req: Request): OAuthForm {
    if (typeof req.body !== 'string') {
      throw new HttpError('invalid_request', { message: `The body must be ${FORM_MEDIA_TYPE}.` });
    }
    const params = new URLSearchParams(req.body);
    for (const name of new Set(params.keys())) {
      if (params.getAll(name).length > 1) throw new HttpError('invalid_request', { message: `\`${printable(name)}\` must not be repeated (RFC 6749 §3.1).` });
    }
    return new OAuthForm(params);
  }

  /** The value, or undefined when the parameter is absent or empty. */
  get(name: string): string | undefined {
    const value = this.params.get(name);
    return value === null || value === '' ? undefined : value;
  }

  /** The value; `invalid_request` naming the parameter when it is absent or empty. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new HttpError('invalid_request', { message: `\`${name}\` is required.` });
    return value;
  }
}

/** A parameter name echoed in a message: bounded, printable ASCII only. */
function printable(name: string): string {
  return name.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
}
