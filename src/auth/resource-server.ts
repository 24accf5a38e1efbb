import type { BearerPassVerifier } from '../jts/bearer-pass/verify.js';
import type { BearerPassClaims, BearerPassHeader } from '../jts/bearer-pass/claims.js';
import { JtsError } from '../jts/errors.js';
import { ID_PATTERN } from '../jts/state-proof.js';
import type { SessionStore } from '../sessions/types.js';
import { StoreError } from '../redis/store-error.js';
import { signedInUnderOldCredentials } from './credential-epoch.js';

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
  onDegraded: (payload: BearerPassClaims, error: StoreError) => void;
}

/**
 * JTSResourceServer: checks BearerPasses for this server's own API. Beyond the signature it asks
 * the session store whether the token's session still lives, so logout, revocation, eviction
 * and replay detection take effect at once (invariant 8).
 */
export class JTSResourceServer {
  constructor(private readonly options: ResourceServerOptions) {}

  async authenticate(bearerPass: string): Promise<AuthenticatedBearerPass> {
    const verified = this.verify(bearerPass);
    await this.assertSessionAlive(verified.payload);
    return verified;
  }

  /**
   * The first step of `authenticate()`: signature, claims and times, no I/O. A route that reads
   * the store anyway can send its own read alongside `assertSessionAlive()` (one round trip) and
   * answer only when both passed.
   */
  verify(bearerPass: string): AuthenticatedBearerPass {
    const result = this.options.verify(bearerPass);
    if (!result.ok) throw result.error;
    return { payload: result.payload, header: result.header, bearerPass };
  }

  /**
   * With revocation checking on, the token's session must still be alive, and not signed in under
   * a credential epoch the user's has since passed (review F2; the session and the user's mirror
   * are read together, one round trip). Errors: `JTS-401-04`, `JTS-401-05`, `service_unavailable`.
   */
  async assertSessionAlive(payload: BearerPassClaims): Promise<void> {
    if (this.options.revocationCheck === 'off') return;
    // Ids this server never issues cannot name a live session; they never reach a store key.
    if (!ID_PATTERN.test(payload.prn) || !ID_PATTERN.test(payload.aid)) throw new JtsError('JTS-401-04');
    let state;
    let user;
    try {
      ({ session: state, user } = await this.options.sessions.sessionAndUser(payload.prn, payload.aid));
    } catch (error) {
      if (!(error instanceof StoreError) || this.options.onStoreError === 'deny') throw error;
      // Failing open is an explicit, configured choice (JTS_REVOCATION_ON_STORE_ERROR=allow), never silent.
      this.options.onDegraded(payload, error);
      return;
    }
    if (state.state === 'missing') throw new JtsError('JTS-401-04');
    if (state.state === 'compromised') throw new JtsError('JTS-401-05');
    // Refused, not deleted: verification writes nothing; the session's next renewal deletes it.
    if (signedInUnderOldCredentials(state, user)) throw new JtsError('JTS-401-04');
  }
}
