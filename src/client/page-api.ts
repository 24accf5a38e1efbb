import { SignedOutError } from './jts-client.js';
import { client } from './page-client.js';
import { failureMessage } from './page-failure.js';
import { announce } from './page-status.js';

/**
 * Runs an authenticated call; undefined when it could not be made. A SignedOutError needs no
 * handling here because the client's 'signed-out' event switches the view.
 */
export async function call(input: string, init?: RequestInit): Promise<Response | undefined> {
  try {
    return await client.fetch(input, init);
  } catch (error) {
    if (error instanceof SignedOutError) return undefined;
    announce(failureMessage(error), 'error');
    return undefined;
  }
}

/** The `message` of an error body, or the HTTP status when the body has none. */
export async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string };
    return body.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}
