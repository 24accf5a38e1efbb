import { ID_PATTERN } from '../jts/state-proof.js';
import type { SessionStore } from '../sessions/types.js';
import type { ServiceClient } from '../accounts/sql-client-store.js';
import type { BearerPassClaims } from '../jts/bearer-pass/claims.js';
import type { BearerPassIssuer } from '../jts/bearer-pass/mint.js';
import { JtsError, type JtsCode } from '../jts/errors.js';
import { randomBase64url } from '../jts/random.js';
import { signedInUnderOldCredentials } from './credential-epoch.js';
import type { AuditSink } from './audit.js';
import type { ClientDirectory } from './client-directory.js';
import { OAuthError } from './oauth-errors.js';
import type { JTSResourceServer } from './resource-server.js';

/** `atm` of the tokens each grant issues (JTS.md, "Non-browser clients"). */
export const CLIENT_CREDENTIALS_ATM = 'client_credentials';
export const TOKEN_EXCHANGE_ATM = 'token_exchange';

/** RFC 6749 §5.1 / RFC 8693 §2.2.1 success body. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  /** RFC 8693 only. */
  issued_token_type?: 'urn:ietf:params:oauth:token-type:access_token';
}

export interface OAuthGrantDeps {
  clients: ClientDirectory;
  /** Signs client-credentials tokens (JTS_CLIENT_TOKEN_LIFETIME). */
  mintClientToken: BearerPassIssuer;
  /** Signs exchanged tokens (JTS_EXCHANGE_TOKEN_LIFETIME, at most 15 minutes). */
  mintExchangedToken: BearerPassIssuer;
  /** The server's own check of a user's BearerPass: signature, claims, audience, live session. */
  resourceServer: JTSResourceServer;
  /** The subject's session and its user's mirror: what the user may grant now, not when the token was minted. */
  sessions: Pick<SessionStore, 'sessionAndUser'>;
  /** JTS_AUDIENCE: never an exchange target (a token for it would be a second, narrower BearerPass of this API). */
  serverAudience: string;
  audit: AuditSink;
}

/** Who asked, for the audit line of an exchange. */
export interface RequestOrigin {
  ip: string | undefined;
  userAgent: string | undefined;
}

/**
 * The grants of `POST /jts/token`: client credentials (RFC 6749 §4.4) and token exchange
 * (RFC 8693). Both issue BearerPasses — same keys, same verification — for the audience of a
 * registered service, never for this server's own API.
 */
export class OAuthGrants {
  constructor(private readonly deps: OAuthGrantDeps) {}

  /**
   * RFC 6749 §4.4.2: `requested` is the `scope` parameter split on spaces (undefined: every scope
   * the client is allowed, §3.3's documented default). Anything outside the client's scopes is
   * `invalid_scope`: a narrower grant than asked would surprise a client that does not read
   * the `scope` of the answer.
   */
  clientCredentials(client: ServiceClient, requested: readonly string[] | undefined): TokenResponse {
    const scopes = requested ?? client.scopes;
    const refused = scopes.filter((scope) => !client.scopes.includes(scope));
    if (refused.length > 0) throw new OAuthError('invalid_scope', { message: `The client may not ask for: ${refused.join(' ')}.` });
    const scope = scopes.length === 0 ? undefined : scopes.join(' ');
    // No session stands behind such a token: its `aid` is an anchor of its own, which no session store knows.
    const minted = this.deps.mintClientToken({ prn: client.id, aid: `cc-${randomBase64url(12)}`, atm: CLIENT_CREDENTIALS_ATM, aud: client.audience, ...(scope === undefined ? {} : { scope }) });
    this.deps.audit({ event: 'token.issued', grant: 'client_credentials', client: client.id, scope: scope ?? '' });
    return { access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresIn, ...(scope === undefined ? {} : { scope }) };
  }

  /**
   * RFC 8693 §2.1, first half: the subject token must be a live BearerPass of a user of this
   * server (its session checked as every request's is), not one this endpoint issued (no chains).
   * Returned so the HTTP layer can apply the per-user limit before anything is signed.
   */
  async verifySubject(subjectToken: string): Promise<BearerPassClaims> {
    try {
      const { payload } = this.deps.resourceServer.verify(subjectToken);
      // Before the session check: a client's token has no session, and deserves the precise answer.
      if (payload.atm === CLIENT_CREDENTIALS_ATM || payload.atm === TOKEN_EXCHANGE_ATM || payload.act !== undefined || payload.scope !== undefined) {
        throw new OAuthError('invalid_grant', { message: 'The subject token must be a user’s BearerPass; a token issued by /jts/token cannot be exchanged.' });
      }
      // The session must live and the user be enabled; the grantable permissions are those the
      // token names that the user still holds (review M3: a demotion must not be stretched by
      // exchanging a BearerPass minted before it). One round trip, as a renewal's read.
      if (!ID_PATTERN.test(payload.prn) || !ID_PATTERN.test(payload.aid)) throw new JtsError('JTS-401-04');
      const { session, user } = await this.deps.sessions.sessionAndUser(payload.prn, payload.aid);
      if (session.state === 'compromised') throw new JtsError('JTS-401-05');
      if (session.state === 'missing' || !user || user.disabled || signedInUnderOldCredentials(session, user)) throw new JtsError('JTS-401-04');
      return { ...payload, perm: (payload.perm ?? []).filter((permission) => user.permissions.includes(permission)) };
    } catch (error) {
      if (error instanceof JtsError) throw new OAuthError('invalid_grant', { message: SUBJECT_MESSAGES[error.code] ?? 'The subject token is not a valid BearerPass of this server.', cause: error });
      throw error;
    }
  }

  /**
   * RFC 8693 §2.1, second half: a token for `audience` only, with the user's id, session and
   * organisation and the granted scope, never more than the user's permissions that the target
   * service accepts. `actor` is the client that authenticated, if one did (its id goes in `act`).
   */
  exchange(subject: BearerPassClaims, audience: string, requested: readonly string[] | undefined, actor: ServiceClient | undefined, origin: RequestOrigin): TokenResponse {
    if (audience === this.deps.serverAudience) throw new OAuthError('invalid_target', { message: 'This server’s own API is not an exchange target; call it with the BearerPass itself.' });
    const target = this.deps.clients.findByAudience(audience);
    if (target === undefined) throw new OAuthError('invalid_target', { message: 'The audience is not a registered service.' });
    const grantable = (subject.perm ?? []).filter((permission) => target.scopes.includes(permission));
    const scopes = requested ?? grantable;
    const refused = scopes.filter((scope) => !grantable.includes(scope));
    if (refused.length > 0) throw new OAuthError('invalid_scope', { message: `Not granted to the user for this audience: ${refused.join(' ')}.` });
    if (scopes.length === 0) throw new OAuthError('invalid_scope', { message: 'The user has no permission this audience accepts.' });
    const scope = scopes.join(' ');
    const minted = this.deps.mintExchangedToken({
      prn: subject.prn,
      aid: subject.aid,
      atm: TOKEN_EXCHANGE_ATM,
      aud: target.audience,
      scope,
      ...(subject.org === undefined ? {} : { org: subject.org }),
      ...(actor === undefined ? {} : { act: { sub: actor.id } }),
    });
    this.deps.audit({ event: 'token.exchanged', prn: subject.prn, aid: subject.aid, audience: target.audience, scope, client: actor?.id, ip: origin.ip, userAgent: origin.userAgent });
    return { access_token: minted.token, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: minted.expiresIn, scope };
  }
}

/** What the subject token's own failure means to the caller of the exchange. */
const SUBJECT_MESSAGES: Partial<Record<JtsCode, string>> = {
  'JTS-401-01': 'The subject token has expired.',
  'JTS-401-04': 'The subject token’s session has ended.',
  'JTS-401-05': 'The subject token’s session was revoked after a replay.',
  'JTS-403-01': 'The subject token was issued for another audience.',
};
