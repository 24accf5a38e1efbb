import { createHash } from 'node:crypto';
import type { BearerPassIssuer, BearerPassSubject } from '../jts/bearer-pass/mint.js';
import type { Clock } from '../jts/clock.js';
import { seconds } from '../jts/clock.js';
import { JtsError } from '../jts/errors.js';
import { randomId, type StateProofCodec, type StateProofParts } from '../jts/state-proof.js';
import { policyName, type SessionPolicy } from '../sessions/policy.js';
import type { SessionRecord, SessionStore } from '../sessions/types.js';
import type { PasswordHasher } from '../users/password.js';
import { assertAcceptablePassword, assertCheckablePassword } from './password-rules.js';
import { normaliseEmail, type User, type UserStore } from '../users/types.js';
import type { AuditSink } from './audit.js';
import { describeDevice, maskIp } from './client-info.js';
import { RenewFactsCache, type RenewFacts } from './renew-facts.js';
import { AuthError } from './errors.js';

export interface AuthServerSettings {
  bearerPassLifetimeSeconds: number;
  stateProofLifetimeSeconds: number;
  rotationGraceSeconds: number;
  replayRevoke: 'session' | 'principal';
  sessionPolicy: SessionPolicy;
  allowRegistration: boolean;
}

export interface AuthServerDeps {
  users: UserStore;
  sessions: SessionStore;
  hasher: PasswordHasher;
  stateProofs: StateProofCodec;
  mint: BearerPassIssuer;
  clock: Clock;
  audit: AuditSink;
  settings: AuthServerSettings;
  /** Sessions whose renewal facts are remembered (see renew-facts.ts); 0 always reads the store. */
  renewFactsCapacity?: number;
}

/** Who is asking, as far as the session list and device binding care. */
export interface ClientContext {
  userAgent?: string | undefined;
  ip?: string | undefined;
  /** X-JTS-Device-ID of native apps; bound to the session at login. */
  deviceId?: string | undefined;
}

export interface IssuedCredentials {
  bearerPass: string;
  expiresIn: number;
  stateProof: string;
  /** Seconds the StateProof cookie should live. */
  stateProofMaxAge: number;
  prn: string;
  aid: string;
}

export interface RenewedCredentials extends IssuedCredentials {
  outcome: 'rotated' | 'grace';
}

export interface SessionView {
  aid: string;
  device: string;
  ip_prefix: string;
  created_at: string;
  last_active: string;
  current: boolean;
}

/**
 * JTSAuthServer: the auth-server half of JTS-S — login, register, renew with a rotating
 * StateProof and replay detection, logout, and the caller's own sessions. No HTTP here.
 */
export class JTSAuthServer {
  private readonly policyName: string;
  private readonly renewFacts: RenewFactsCache;

  constructor(private readonly deps: AuthServerDeps) {
    this.policyName = policyName(deps.settings.sessionPolicy);
    this.renewFacts = new RenewFactsCache(deps.renewFactsCapacity);
  }

  async login(email: string, password: string, client: ClientContext): Promise<IssuedCredentials> {
    const { users, hasher, audit } = this.deps;
    assertCheckablePassword(password);
    const user = await users.findByEmail(email);
    // Always one bcrypt comparison, whether or not the email exists (invariant 9).
    const matches = await hasher.verify(password, user?.passwordHash);
    if (!user || !matches || user.disabled) {
      audit({ event: 'login.failed', reason: !user ? 'unknown_email' : !matches ? 'wrong_password' : 'disabled' });
      throw new AuthError('invalid_credentials');
    }
    const issued = await this.openSession(user, client);
    await this.assertCredentialsStillValid(user, issued);
    return issued;
  }

  async register(input: { email: string; password: string; name: string }, client: ClientContext): Promise<IssuedCredentials> {
    const { users, hasher, clock, settings } = this.deps;
    if (!settings.allowRegistration) throw new AuthError('registration_closed');
    assertAcceptablePassword(input.password);
    const now = clock.now();
    const user: User = {
      id: randomId(),
      email: normaliseEmail(input.email),
      name: input.name.trim(),
      passwordHash: await hasher.hash(input.password),
      permissions: ['read:profile'],
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    if ((await users.create(user)) === 'email_taken') throw new AuthError('email_taken');
    const issued = await this.openSession(user, client, 'register');
    return issued;
  }

  async renew(stateProof: unknown, client: ClientContext): Promise<RenewedCredentials> {
    const parts = this.deps.stateProofs.parse(stateProof);
    if (!parts) {
      this.deps.audit({ event: 'renew.rejected', reason: 'invalid' });
      throw new JtsError('JTS-401-03');
    }
    // Fast path: mint from what this instance remembers and let the store confirm it atomically.
    // Anything it cannot confirm (or a device that does not match) takes the full path below,
    // so every rejection keeps its exact code and order.
    const known = this.renewFacts.get(parts.prn, parts.aid);
    if (known && deviceAccepted(known.deviceHash, client)) {
      const renewed = await this.rotate(parts, known, 'store-confirms-user');
      if (renewed !== 'stale') return renewed;
    }
    return this.renewFromStore(parts, client);
  }

  /** Reads the session and the user, checks them in order, then rotates. */
  private async renewFromStore(parts: StateProofParts, client: ClientContext): Promise<RenewedCredentials> {
    const { users, sessions, audit } = this.deps;
    const { prn, aid } = parts;
    // Two independent reads; with auto-pipelining they share one round trip.
    const [state, user] = await Promise.all([sessions.state(prn, aid), users.get(prn)]);
    if (state.state === 'missing') {
      audit({ event: 'renew.rejected', reason: 'missing', prn, aid });
      throw new JtsError('JTS-401-04');
    }
    if (state.state === 'compromised') {
      audit({ event: 'renew.rejected', reason: 'compromised', prn, aid });
      throw new JtsError('JTS-401-05');
    }
    if (!deviceAccepted(state.deviceHash, client)) {
      audit({ event: 'renew.rejected', reason: 'device_mismatch', prn, aid });
      throw new JtsError('JTS-401-06');
    }
    if (!user || user.disabled) {
      this.renewFacts.delete(prn, aid);
      await sessions.revoke(prn, aid);
      audit({ event: 'renew.rejected', reason: 'user_gone', prn, aid });
      throw new JtsError('JTS-401-04', { message: 'The account is disabled or no longer exists.' });
    }
    const facts: RenewFacts = { createdAt: state.createdAt, deviceHash: state.deviceHash, permissions: user.permissions };
    this.renewFacts.set(prn, aid, facts);
    return this.rotate(parts, facts, 'user-was-read');
  }

  /**
   * Mints the next BearerPass from `facts` and rotates the session. When the user was not read
   * for this renewal, the store rotates only if the user still matches `facts` ('stale' if not).
   */
  private rotate(parts: StateProofParts, facts: RenewFacts, user: 'store-confirms-user'): Promise<RenewedCredentials | 'stale'>;
  private rotate(parts: StateProofParts, facts: RenewFacts, user: 'user-was-read'): Promise<RenewedCredentials>;
  private async rotate(parts: StateProofParts, facts: RenewFacts, user: 'store-confirms-user' | 'user-was-read'): Promise<RenewedCredentials | 'stale'> {
    const { sessions, stateProofs, clock, audit, settings, mint } = this.deps;
    const { prn, aid } = parts;
    const now = clock.now();
    const minted = mint(this.subject(prn, facts.permissions, aid, facts.createdAt, facts.deviceHash));
    const result = await sessions.rotate({
      prn,
      aid,
      presented: parts.generation,
      sealedBearerPass: stateProofs.seal(parts, minted.token),
      now,
      graceMs: settings.rotationGraceSeconds * 1000,
      tombstoneMs: this.tombstoneMs(),
      replayRevoke: settings.replayRevoke,
      ...(user === 'store-confirms-user' ? { onlyIfUser: { permissions: facts.permissions } } : {}),
    });

    if (result.outcome !== 'rotated' && result.outcome !== 'grace') this.renewFacts.delete(prn, aid);
    switch (result.outcome) {
      case 'rotated':
        audit({ event: 'renew', prn, aid, generation: result.generation });
        return { ...this.credentials(parts, result.generation, minted.token, minted.expiresIn, facts.createdAt), outcome: 'rotated' };
      case 'grace': {
        const token = stateProofs.open(parts, result.sealedBearerPass);
        if (token === undefined) throw new JtsError('JTS-401-03');
        audit({ event: 'renew.grace', prn, aid, generation: result.generation });
        return { ...this.credentials(parts, result.generation, token, expiresInOf(token, now), facts.createdAt), outcome: 'grace' };
      }
      case 'stale':
        return 'stale';
      case 'replay':
        audit({ event: 'replay.detected', prn, aid, presented: parts.generation, revoked: result.revoked });
        throw new JtsError('JTS-401-05');
      // Also what a renewal from remembered facts learns instead of the full path's read.
      case 'compromised':
        audit({ event: 'renew.rejected', reason: 'compromised', prn, aid });
        throw new JtsError('JTS-401-05');
      case 'missing':
        audit({ event: 'renew.rejected', reason: 'missing', prn, aid });
        throw new JtsError('JTS-401-04');
    }
  }

  /** Ends the StateProof's session. Idempotent: an unknown or ended session is not an error. */
  async logout(stateProof: unknown): Promise<{ ended: boolean }> {
    const parts = this.deps.stateProofs.parse(stateProof);
    if (!parts) return { ended: false };
    this.renewFacts.delete(parts.prn, parts.aid);
    const ended = await this.deps.sessions.revoke(parts.prn, parts.aid);
    this.deps.audit({ event: 'logout', prn: parts.prn, aid: parts.aid, ended });
    return { ended };
  }

  async listSessions(prn: string, currentAid: string): Promise<SessionView[]> {
    const records = await this.deps.sessions.list(prn, this.deps.clock.now());
    return records.map((record) => toView(record, currentAid));
  }

  /** False when the aid is not a live session of this user (someone else's looks the same: 404). */
  async revokeSession(prn: string, aid: string): Promise<boolean> {
    this.renewFacts.delete(prn, aid);
    const ended = await this.deps.sessions.revoke(prn, aid);
    if (ended) this.deps.audit({ event: 'session.revoked', prn, aids: [aid], reason: 'user' });
    return ended;
  }

  async revokeOtherSessions(prn: string, keepAid: string): Promise<string[]> {
    const ended = await this.deps.sessions.revokeAll(prn, keepAid);
    this.forget(prn, ended);
    this.deps.audit({ event: 'session.revoked', prn, aids: ended, reason: 'others' });
    return ended;
  }

  /** Changes the password and ends every other session of the user. */
  async changePassword(prn: string, currentAid: string, currentPassword: string, newPassword: string): Promise<{ revoked: number }> {
    const { users, hasher, sessions, clock, audit } = this.deps;
    assertCheckablePassword(currentPassword);
    assertAcceptablePassword(newPassword);
    const user = await users.get(prn);
    if (!user || user.disabled) throw new JtsError('JTS-401-04');
    if (!(await hasher.verify(currentPassword, user.passwordHash))) {
      throw new AuthError('invalid_credentials', { message: 'The current password is incorrect.' });
    }
    await users.update(prn, { passwordHash: await hasher.hash(newPassword) }, clock.now());
    const ended = await sessions.revokeAll(prn, currentAid);
    this.forget(prn, ended);
    audit({ event: 'password.changed', prn });
    if (ended.length > 0) audit({ event: 'session.revoked', prn, aids: ended, reason: 'password_change' });
    return { revoked: ended.length };
  }

  /**
   * A password change or a disable that lands while this login was inside bcrypt ends every
   * session that exists at that moment — but not one created just after. Reading the user again
   * once the session exists closes that gap: either the change's revocation sees our session, or
   * we see the change (both steps are atomic in the store, so one of the two must happen).
   */
  private async assertCredentialsStillValid(user: User, issued: IssuedCredentials): Promise<void> {
    const now = await this.deps.users.get(user.id);
    if (now && !now.disabled && now.passwordHash === user.passwordHash) return;
    this.renewFacts.delete(issued.prn, issued.aid);
    await this.deps.sessions.revoke(issued.prn, issued.aid);
    throw new AuthError('invalid_credentials');
  }

  private async openSession(user: User, client: ClientContext, event: 'login.succeeded' | 'register' = 'login.succeeded'): Promise<IssuedCredentials> {
    const { sessions, clock, settings, audit, mint } = this.deps;
    const now = clock.now();
    const aid = randomId();
    const deviceHash = client.deviceId === undefined ? undefined : hashDeviceId(client.deviceId);
    const { evicted } = await sessions.create(
      { prn: user.id, aid, createdAt: now, device: describeDevice(client.userAgent), ipPrefix: maskIp(client.ip), deviceHash },
      { policy: settings.sessionPolicy, lifetimeMs: settings.stateProofLifetimeSeconds * 1000, now },
    );
    if (event === 'register') audit({ event, prn: user.id, aid });
    else audit({ event, prn: user.id, aid, evicted });
    this.forget(user.id, evicted);
    if (evicted.length > 0) audit({ event: 'session.revoked', prn: user.id, aids: evicted, reason: 'policy' });
    this.renewFacts.set(user.id, aid, { createdAt: now, deviceHash, permissions: user.permissions });
    const minted = mint(this.subject(user.id, user.permissions, aid, now, deviceHash));
    return this.credentials({ prn: user.id, aid }, 1, minted.token, minted.expiresIn, now);
  }

  private subject(prn: string, permissions: string[], aid: string, authenticatedAt: number, deviceHash: string | undefined): BearerPassSubject {
    return {
      prn,
      aid,
      perm: permissions,
      atm: 'pwd',
      ath: seconds(authenticatedAt),
      spl: this.policyName,
      ...(deviceHash === undefined ? {} : { dfp: deviceHash }),
    };
  }

  /** The cookie lives exactly as long as the session: its lifetime from login, not from now. */
  private credentials(parts: Pick<StateProofParts, 'prn' | 'aid'>, generation: number, bearerPass: string, expiresIn: number, sessionCreatedAt: number): IssuedCredentials {
    const { prn, aid } = parts;
    const { settings, stateProofs, clock } = this.deps;
    const stateProofMaxAge = Math.max(0, seconds(sessionCreatedAt + settings.stateProofLifetimeSeconds * 1000 - clock.now()));
    return { bearerPass, expiresIn, stateProof: stateProofs.issue({ prn, aid, generation }), stateProofMaxAge, prn, aid };
  }

  /**
   * Sessions this instance ended need no renewal facts. Only an optimisation: another instance
   * may end a session too, and then the store refuses the renewal all the same.
   */
  private forget(prn: string, aids: readonly string[]): void {
    for (const aid of aids) this.renewFacts.delete(prn, aid);
  }

  /** A compromised session is remembered while any of its BearerPasses could still be presented. */
  private tombstoneMs(): number {
    return (this.deps.settings.bearerPassLifetimeSeconds + 120) * 1000;
  }
}

function hashDeviceId(deviceId: string | undefined): string | undefined {
  return deviceId === undefined ? undefined : createHash('sha256').update(deviceId).digest('base64url');
}

/** A session bound to a device at login renews only from that device; an unbound one from any. */
function deviceAccepted(boundHash: string | undefined, client: ClientContext): boolean {
  return boundHash === undefined || boundHash === hashDeviceId(client.deviceId);
}

function expiresInOf(token: string, now: number): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number };
  return Math.max(0, payload.exp - seconds(now));
}

function toView(record: SessionRecord, currentAid: string): SessionView {
  return {
    aid: record.aid,
    device: record.device,
    ip_prefix: record.ipPrefix,
    created_at: new Date(record.createdAt).toISOString(),
    last_active: new Date(record.lastActiveAt).toISOString(),
    current: record.aid === currentAid,
  };
}
