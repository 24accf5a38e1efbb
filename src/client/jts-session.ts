import { bearerFrom, type Bearer, type CredentialsBody } from './jts-bearer.js';
import type { AuthServerEndpoint } from './jts-endpoint.js';
import { requestErrorOf } from './jts-error-body.js';
import { isSessionEnding, JtsRequestError, type SignOutReason } from './jts-errors.js';
import type { AuthEvents } from './jts-events.js';
import { SiblingTabs, withRenewLock, withSiblingDelay, type ChannelMessage } from './jts-tabs.js';
import { TokenState } from './jts-token-state.js';

/**
 * The one session that all tabs of this browser share (one StateProof cookie), seen from this
 * tab. Every call that changes credentials (login, register, renew, logout) runs here under the
 * cross-tab lock; what it yields is handed to the sibling tabs, and what they hand over is taken.
 */
export class SharedSession {
  private readonly siblings: SiblingTabs;
  private readonly tokens: TokenState;
  private renewing: Promise<Bearer | undefined> | undefined;

  /**
   * @param renewAtFraction renew once this fraction of the BearerPass lifetime has passed
   * @param events where sign-in, renewal and sign-out are reported
   */
  constructor(
    private readonly server: AuthServerEndpoint,
    private readonly renewAtFraction: number,
    private readonly events: AuthEvents,
  ) {
    this.siblings = new SiblingTabs((message) => {
      this.onSiblingMessage(message);
    });
    this.tokens = new TokenState(() => void this.renewQuietly());
  }

  /** This tab's BearerPass, or undefined when signed out. */
  get bearer(): Bearer | undefined {
    return this.tokens.bearer;
  }

  /** Starts a session with the password (login or register) and hands its BearerPass to the sibling tabs. */
  async open(path: '/jts/login' | '/jts/register' | '/jts/login/code/verify' | '/jts/mfa/verify' | '/jts/passkeys/login/verify', body: Record<string, unknown>, via: 'login' | 'register'): Promise<void> {
    await withRenewLock(async () => {
      const startedAt = Date.now();
      const res = await this.server.post(path, body);
      if (!res.ok) throw await requestErrorOf(res);
      const bearer = bearerFrom((await res.json()) as CredentialsBody, this.renewAtFraction);
      this.tokens.adopt(bearer, startedAt);
      this.siblings.post({ type: 'signed-in', bearer, at: Date.now() });
      this.events.emit({ type: 'signed-in', via });
    });
  }

  /** Ends the session on the server, then in every tab; throws (still signed in) when the server does not confirm. */
  async logout(): Promise<void> {
    await withRenewLock(async () => {
      // Signed out locally only once the server has ended the session: otherwise the HttpOnly
      // cookie would survive and the next page load would silently sign back in.
      const res = await this.server.post('/jts/logout');
      if (!res.ok) throw await requestErrorOf(res);
      this.end('logout', 'self');
    });
  }

  /**
   * Renews the BearerPass. Single-flight: concurrent callers in this tab share one promise, and
   * across tabs the Web Lock lets only one renewal run at a time. Resolves undefined when the
   * session is over; rejects when the server could not renew it for now (network, 5xx, 429).
   */
  renew(): Promise<Bearer | undefined> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Forgets the session in this tab; `via: 'self'` also tells the sibling tabs, which share the now dead cookie. */
  end(reason: SignOutReason, via: 'self' | 'sibling'): void {
    const wasSignedIn = this.tokens.clear();
    if (via === 'self') this.siblings.post({ type: 'signed-out', reason, at: Date.now() });
    if (wasSignedIn || via === 'self') this.events.emit({ type: 'signed-out', reason, via });
  }

  private async renewOnce(): Promise<Bearer | undefined> {
    const before = this.tokens.bearer;
    const wasSignedIn = before !== undefined;
    return withRenewLock(async () => {
      // While this tab waited for the lock, a sibling may have renewed and handed us the result:
      // renewing again would only burn another rotation.
      const current = this.tokens.bearer;
      if (current && current !== before && Date.now() < current.renewAt) return current;

      const startedAt = Date.now();
      let res: Response;
      try {
        res = await this.server.post('/jts/renew');
      } catch (error) {
        this.tokens.scheduleRetry();
        throw new JtsRequestError(0, undefined, { cause: error });
      }
      if (res.ok) {
        const bearer = bearerFrom((await res.json()) as CredentialsBody, this.renewAtFraction);
        this.tokens.adopt(bearer, wasSignedIn ? this.tokens.sessionSince : startedAt);
        this.siblings.post({ type: 'renewed', bearer, at: Date.now() });
        this.events.emit(wasSignedIn ? { type: 'renewed', via: 'self' } : { type: 'signed-in', via: 'resume' });
        return bearer;
      }
      const error = await requestErrorOf(res);
      if (res.status === 401) {
        // The cookie is shared: dead (or absent) for this tab means dead for every tab.
        this.end(isSessionEnding(error.code) ? error.code : 'JTS-401-03', 'self');
        return undefined;
      }
      this.tokens.scheduleRetry();
      throw error;
    });
  }

  /** For the renewal timer: a failed renewal has already scheduled its retry or ended the session. */
  private renewQuietly(): Promise<void> {
    return this.renew().then(
      () => undefined,
      () => undefined,
    );
  }

  private onSiblingMessage(message: ChannelMessage): void {
    switch (message.type) {
      case 'signed-in':
      case 'renewed': {
        const current = this.tokens.bearer;
        // Keep whichever BearerPass lives longer; a late message must not replace a fresher token.
        if (current && current.expiresAt >= message.bearer.expiresAt && message.type === 'renewed') return;
        const startsSession = message.type === 'signed-in' || current === undefined;
        this.tokens.adopt(withSiblingDelay(message.bearer), startsSession ? message.at : this.tokens.sessionSince);
        this.events.emit(startsSession ? { type: 'signed-in', via: 'sibling' } : { type: 'renewed', via: 'sibling' });
        return;
      }
      case 'signed-out':
        // A sign-out older than this tab's session (a sibling's failed renew before our login) is stale.
        if (message.at < this.tokens.sessionSince) return;
        this.end(message.reason, 'sibling');
        return;
    }
  }
}
