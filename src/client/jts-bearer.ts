/** A BearerPass as this tab holds it: the token and when to renew it. */
export interface Bearer {
  token: string;
  /** Epoch ms, by this browser's clock (shared by all tabs). */
  expiresAt: number;
  renewAt: number;
}

/** The body of a successful login, register or renew (JTS.md). */
export interface CredentialsBody {
  bearerPass: string;
  expiresIn: number;
}

/**
 * The Bearer for a credentials body just received. Times are counted from now with the server's
 * `expiresIn` rather than read from the token's `exp`: a browser clock that differs from the
 * server's then does not move the renewal point.
 *
 * @param renewAtFraction renew once this fraction of the lifetime has passed (0 < fraction < 1)
 */
export function bearerFrom(body: CredentialsBody, renewAtFraction: number): Bearer {
  const now = Date.now();
  const lifetimeMs = body.expiresIn * 1000;
  return { token: body.bearerPass, expiresAt: now + lifetimeMs, renewAt: now + lifetimeMs * renewAtFraction };
}

/** The claims of a BearerPass, for display only: they are read without checking the signature. */
export function claimsOf(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
