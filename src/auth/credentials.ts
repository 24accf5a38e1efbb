import type { BearerPassIssuer, MintedBearerPass } from '../jts/bearer-pass/mint.js';
import { seconds, type Clock } from '../jts/clock.js';
import type { StateProofCodec, StateProofParts } from '../jts/state-proof.js';
import { policyName, type SessionPolicy } from '../sessions/policy.js';
import type { RenewFacts } from './renew-facts.js';

/** What a sign-in or a renewal hands to the client (the HTTP layer turns it into a body and a cookie). */
export interface IssuedCredentials {
  /** Compact JWS, for `Authorization: Bearer`. */
  bearerPass: string;
  /** Seconds until the BearerPass expires. */
  expiresIn: number;
  /** `sp1.<prn>.<aid>.<generation>.<mac>` (see jts/state-proof.ts). */
  stateProof: string;
  /** Seconds the StateProof cookie should live. */
  stateProofMaxAge: number;
  prn: string;
  aid: string;
}

/**
 * A renewal's answer: the same shape as a sign-in's. Whether it rotated or repeated the grace
 * window's answer is audited (`renew` / `renew.grace`), not returned.
 */
export type RenewedCredentials = IssuedCredentials;

/** The signer, the StateProof codec and the two settings every credential depends on. */
export interface CredentialMinterOptions {
  mint: BearerPassIssuer;
  stateProofs: StateProofCodec;
  clock: Clock;
  /** A session's whole life, from its sign-in; the cookie's Max-Age counts down from it. */
  stateProofLifetimeSeconds: number;
  /** Named in every BearerPass's `spl`. */
  sessionPolicy: SessionPolicy;
  /** JTS_MFA_REQUIRED_FOR: permissions left out of a BearerPass whose `amr` lacks `mfa` (default none). */
  mfaRequiredFor?: readonly string[];
}

/**
 * Mints a session's credentials, the same way at sign-in and at every renewal: the BearerPass
 * from the session's facts, the StateProof of a generation, and the cookie's life. Pure apart
 * from the clock and the signer; never touches a store.
 */
export class CredentialMinter {
  private readonly spl: string;
  private readonly lifetimeMs: number;
  /** Decided once: with no JTS_MFA_REQUIRED_FOR the renew path passes the permissions as they are. */
  private readonly permissionsFor: (permissions: string[], amr: readonly string[] | undefined) => string[];

  constructor(private readonly options: CredentialMinterOptions) {
    this.spl = policyName(options.sessionPolicy);
    this.lifetimeMs = options.stateProofLifetimeSeconds * 1000;
    const gated = new Set(options.mfaRequiredFor ?? []);
    this.permissionsFor =
      gated.size === 0
        ? (permissions) => permissions
        : (permissions, amr) => (amr?.includes('mfa') === true || !permissions.some((p) => gated.has(p)) ? permissions : permissions.filter((p) => !gated.has(p)));
  }

  /**
   * Signs a BearerPass for session `aid` of `prn`. `ath` and `auth_time` (OIDC Core §2, RFC 9068)
   * are the session's creation — the sign-in it came from, not this renewal — and `amr` (RFC 8176)
   * how that sign-in was made, so a renewal copies both; after a step-up (POST /jts/reauth) both
   * are the step-up's, the latest time the user proved a credential on this session; `amr` is absent only for a session stored
   * before it was (no guess). `email_verified` is the account's at this mint. `dfp` is present
   * only for a device-bound session. `perm` lacks the JTS_MFA_REQUIRED_FOR permissions unless
   * `amr` holds `mfa`; a session without `amr` (stored before it existed) is treated as without
   * a second factor (fails closed).
   */
  bearerPass(prn: string, aid: string, facts: RenewFacts): MintedBearerPass {
    const authTime = seconds(facts.stepUp?.authTime ?? facts.createdAt);
    const amr = facts.stepUp?.amr ?? facts.amr;
    return this.options.mint({
      prn,
      aid,
      perm: this.permissionsFor(facts.permissions, amr),
      // JTS.md's own claim stays as it was for existing consumers; amr says more.
      atm: 'pwd',
      ath: authTime,
      spl: this.spl,
      ...(facts.deviceHash === undefined ? {} : { dfp: facts.deviceHash }),
      ...(amr === undefined ? {} : { amr: [...amr] }),
      auth_time: authTime,
      email_verified: facts.emailVerified,
    });
  }

  /**
   * The credentials of `generation` of the session: issues its StateProof and sizes the cookie.
   * The cookie lives exactly as long as the session, counted from `sessionCreatedAt` (ms since
   * the epoch), not from now; 0 once that is past.
   */
  issue(session: Pick<StateProofParts, 'prn' | 'aid'>, generation: number, bearerPass: string, expiresIn: number, sessionCreatedAt: number): IssuedCredentials {
    const { prn, aid } = session;
    const { stateProofs, clock } = this.options;
    const stateProofMaxAge = Math.max(0, seconds(sessionCreatedAt + this.lifetimeMs - clock.now()));
    return { bearerPass, expiresIn, stateProof: stateProofs.issue({ prn, aid, generation }), stateProofMaxAge, prn, aid };
  }
}
