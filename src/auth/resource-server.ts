import type { BearerPassVerifier } from '../jts/bearer-pass/verify.js';
import type { BearerPassClaims, BearerPassHeader } from '../jts/bearer-pass/claims.js';
import { JtsError } from '../jts/errors.js';
import { ID_PATTERN } from '../jts/state-proof.js';
import type { SessionStore } from '../sessions/types.js';

export interface AuthenticatedBearerPass {
  payload: BearerPassClaims;
  header: BearerPassHeader;
  bearerPass: string;
}

export interface ResourceServerOptions {
  verify: BearerPassVerifier;
  sessions: SessionStore;
  /** `strict`: every BearerPass's session must still be alive (instant revocation). */
  revocationCheck: 'strict' | 'off';
  /** What `strict` does when the store cannot answer. */
  onStoreError: 'deny' | 'allow';
  /** Called when a request is let through on its signature alone because the store failed. */
  onDegraded: (payload: BearerPassClaims, error: JtsError) => void;
}

/**
 * JTSResourceServer: checks BearerPasses for this server's own API. Beyond the signature it asks
 * the session store whether the token's session still lives, so logout, revocation, eviction
 * and replay detection take effect at once (invariant 8).
 */
export class JTSResourceServer {
  constructor(private readonly options: ResourceServerOptions) {}

  async authenticate(bearerPass: string): Promise<AuthenticatedBearerPass> {
    const result = this.options.verify(bearerPass);
    if (!result.ok) throw result.error;
    const { payload, header } = result;
    if (this.options.revocationCheck === 'strict') await this.assertSessionAlive(payload);
    return { payload, header, bearerPass };
  }

  private async assertSessionAlive(payload: BearerPassClaims): Promise<void> {
    // Ids this server never issues cannot name a live session; they never reach a store key.
    if (!ID_PATTERN.test(payload.prn) || !ID_PATTERN.test(payload.aid)) throw new JtsError('JTS-401-04');
    let state;
    try {
      state = await this.options.sessions.state(payload.prn, payload.aid);
    } catch (error) {
      if (!(error instanceof JtsError) || error.code !== 'service_unavailable' || this.options.onStoreError === 'deny') throw error;
      // Failing open is an explicit, configured choice (JTS_REVOCATION_ON_STORE_ERROR=allow), never silent.
      this.options.onDegraded(payload, error);
      return;
    }
    if (state.state === 'missing') throw new JtsError('JTS-401-04');
    if (state.state === 'compromised') throw new JtsError('JTS-401-05');
  }
}
