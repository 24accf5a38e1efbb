import { JtsRequestError, type ErrorBody } from './jts-errors.js';

/** The error a failed response stands for; a body that is not JSON (a proxy's HTML page) leaves `body` undefined. */
export async function requestErrorOf(res: Response): Promise<JtsRequestError> {
  let body: ErrorBody | undefined;
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  return new JtsRequestError(res.status, body);
}

/** The JTS error code of a 401 response, read from a clone so the caller can still read the body. */
export async function unauthorizedCodeOf(res: Response): Promise<string | undefined> {
  if (res.status !== 401) return undefined;
  try {
    const body = (await res.clone().json()) as Partial<ErrorBody>;
    return body.error_code ?? body.error;
  } catch {
    return undefined;
  }
}
