import type { ServiceClient } from '../accounts/sql-client-store.js';
import type { BearerPassClaims } from '../jts/bearer-pass/claims.js';
import type { BearerPassVerifier } from '../jts/bearer-pass/verify.js';
import { JtsError } from '../jts/errors.js';
import type { ClientDirectory } from './client-directory.js';
import { CLIENT_CREDENTIALS_ATM } from './oauth-grants.js';
import type { JTSResourceServer } from './resource-server.js';

/** RFC 7662 §2.2. `sub` and `prn` carry the same id (`prn` is JTS's name for `sub`). */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      sub: string;
      prn: string;
      aid: string;
      scope?: string;
      exp: number;
      iat: number;
      client_id?: string;
      token_type: 'Bearer';
      aud?: string | string[];
      iss?: string;
      atm?: string;
      org?: string;
      act?: { sub: string };
    };

export interface IntrospectionDeps {
  /** Signature, claims and times, without an audience check (the caller's audience is checked here). */
  verify: BearerPassVerifier;
  /** For the session check of users' tokens, exactly as this server's own API does it. */
  resourceServer: JTSResourceServer;
  clients: ClientDirectory;
  /** This server's own audience (JTS_AUDIENCE): users' BearerPasses, which every service may check. */
  serverAudience: string;
}

const INACTIVE = Object.freeze({ active: false as const });

/**
 * Token introspection (RFC 7662) for authenticated service clients: is this token valid right
 * now? No SQL: signature and times in memory, a user's session in Redis (one round trip, the
 * same check as this server's middleware, so a logout, revocation or replay is seen at once), a
 * client's own tokens, and tokens exchanged by a client (`act.sub`), against the in-memory client
 * directory (a disabled or deleted client's tokens turn inactive at the next refresh, at once for a
 * change made through this instance).
 *
 * A client sees only tokens meant for it: those whose `aud` holds its audience, and users'
 * BearerPasses for this server's API (JTS_AUDIENCE), which services receive from browsers.
 * Anything else is `{active: false}`, as RFC 7662 §2.2 allows, and never says why (§4).
 */
export class Introspection {
  constructor(private readonly deps: IntrospectionDeps) {}

  async introspect(token: string, caller: ServiceClient): Promise<IntrospectionResponse> {
    const result = this.deps.verify(token);
    if (!result.ok) return INACTIVE;
    const { payload } = result;
    if (!audienceIncludes(payload.aud, caller.audience) && !audienceIncludes(payload.aud, this.deps.serverAudience)) return INACTIVE;
    if (payload.atm === CLIENT_CREDENTIALS_ATM) {
      if (!this.clientStillStands(payload.prn, payload.iat)) return INACTIVE;
    } else {
      // An exchanged token speaks for its acting client too: disabling or deleting that client ends it.
      if (payload.act !== undefined && !this.clientStillStands(payload.act.sub, payload.iat)) return INACTIVE;
      try {
        await this.deps.resourceServer.assertSessionAlive(payload);
      } catch (error) {
        if (error instanceof JtsError) return INACTIVE;
        throw error;
      }
    }
    return describe(payload);
  }

  /**
   * The client is registered, enabled, and was registered before the token was issued: a client
   * deleted and registered again under the same id does not revive its predecessor's tokens.
   */
  private clientStillStands(id: string, issuedAt: number): boolean {
    const client = this.deps.clients.findEnabled(id);
    return client !== undefined && issuedAt >= Math.floor(client.createdAt / 1000);
  }
}

function describe(payload: BearerPassClaims): IntrospectionResponse {
  const scope = payload.scope ?? (payload.perm !== undefined && payload.perm.length > 0 ? payload.perm.join(' ') : undefined);
  const clientId = payload.atm === CLIENT_CREDENTIALS_ATM ? payload.prn : payload.act?.sub;
  return {
    active: true,
    sub: payload.prn,
    prn: payload.prn,
    aid: payload.aid,
    ...(scope === undefined ? {} : { scope }),
    exp: payload.exp,
    iat: payload.iat,
    ...(clientId === undefined ? {} : { client_id: clientId }),
    token_type: 'Bearer',
    ...(payload.aud === undefined ? {} : { aud: payload.aud }),
    ...(payload.iss === undefined ? {} : { iss: payload.iss }),
    ...(payload.atm === undefined ? {} : { atm: payload.atm }),
    ...(payload.org === undefined ? {} : { org: payload.org }),
    ...(payload.act === undefined ? {} : { act: { sub: payload.act.sub } }),
  };
}

function audienceIncludes(aud: BearerPassClaims['aud'], expected: string): boolean {
  return Array.isArray(aud) ? aud.includes(expected) : aud === expected;
}
