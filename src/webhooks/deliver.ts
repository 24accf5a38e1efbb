import { Webhook } from 'standardwebhooks';

/** The outcome of one POST: delivered (2xx), or why not, in a line that holds no secret. */
export type AttemptResult = { ok: true; status: number } | { ok: false; error: string };

/**
 * Signs and POSTs one webhook as Standard Webhooks says: `webhook-id` (stable per event and
 * endpoint), `webhook-timestamp` (this attempt's time, seconds: receivers refuse old ones, so a
 * retry is signed anew), `webhook-signature` `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * computed by the reference library (`standardwebhooks`), the key being the base64 part of the
 * `whsec_` secret. Redirects are not followed (a 3xx is a failure): the receiver is the URL the
 * operator configured, never one a response names.
 */
export class WebhookPoster {
  private readonly signer: Webhook;

  constructor(
    secret: string,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.signer = new Webhook(secret);
  }

  /** The three headers for `body` at `atMs`. */
  headers(id: string, body: string, atMs: number): Record<string, string> {
    const timestamp = new Date(Math.floor(atMs / 1000) * 1000);
    return {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp.getTime() / 1000),
      'webhook-signature': this.signer.sign(id, timestamp, body),
    };
  }

  async post(url: string, id: string, body: string): Promise<AttemptResult> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'jts-auth-server webhooks', ...this.headers(id, body, this.now()) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The answer's body is not read: only its status counts.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
      return { ok: false, error: `HTTP ${response.status}` };
    } catch (error) {
      return { ok: false, error: describeFailure(error, this.timeoutMs) };
    }
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  // A DOMException: not an `Error` in every realm (jest's), so matched by name.
  const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  return code ?? (cause instanceof Error ? cause.message : String(cause)).slice(0, 200);
}
