import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeAttestationObject, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { WebAuthnSettings } from '../config/webauthn.js';
import { randomId } from '../jts/state-proof.js';
import type { ChallengePurposeWebAuthn, Passkey, PasskeyStore } from '../users/passkeys.js';
import type { User } from '../users/types.js';
import { StepUpError } from '../verifier/step-up.js';
import type { AccountMailer } from './account-mail.js';
import type { ClientContext } from './client-info.js';
import type { AuthContext, MfaSettings } from './context.js';
import type { SecondFactorStore } from '../users/factors.js';
import { AuthError } from './errors.js';
import { clientBinding } from './factor-secrets.js';
import { assertFreshSignIn } from './fresh-auth.js';
import { hasSecondFactor, type PasskeySecondFactor, type SecondFactorPasskeyResult, type SignInProof } from './second-factor.js';
import { assertRpId, clientDataOf, decoded, hashChallenge, Refusal, type ClientData } from './webauthn-checks.js';

/** What the passkey use cases read. */
export interface PasskeyDeps extends Pick<AuthContext, 'users' | 'clock' | 'audit'> {
  passkeys: PasskeyStore;
  /** Whether the account has an authenticator app: adding a passkey next to it needs `mfa` (below). */
  factors: Pick<SecondFactorStore, 'totp'>;
  webauthn: WebAuthnSettings;
  mfaSettings: Pick<MfaSettings, 'freshAuthMaxAgeSeconds' | 'enrolmentNeedsVerifiedEmail'>;
  /** Notices to the account when a passkey is added or removed (none when absent). */
  mailer?: AccountMailer;
}

/** A challenge lives 5 minutes, as an MFA ticket does (the browser's own timeout is the same). */
export const WEBAUTHN_CHALLENGE_LIFETIME_SECONDS = 300;

/** GET /jts/passkeys: what the owner sees of a passkey (never the key or the credential id). */
export interface PasskeyView {
  id: string;
  name: string;
  deviceType: Passkey['deviceType'];
  backedUp: boolean;
  transports: string[];
  createdAt: number;
  lastUsedAt: number | undefined;
}

/** A verified assertion: whose passkey, and whether the authenticator verified its user (PIN, biometrics). */
export interface PasskeyProof {
  user: User;
  userVerified: boolean;
}

/**
 * Passkeys (README, "Passkeys"): register, list, rename and remove them; sign in with one alone
 * (a discoverable credential, user verification required); check one as the second factor of a
 * sign-in waiting at `mfa_required`. `@simplewebauthn/server` checks signatures and formats; this
 * module decides what is asked and accepted:
 *
 * - Every challenge is ours, random, stored hashed server-side, bound to its purpose and to the
 *   user (registration), the MFA ticket (second factor) or the client (passwordless), and taken
 *   once, whatever the outcome: a refused answer cannot be retried with the same challenge.
 * - The checks the library makes too (challenge, origin, RP ID, user verification) are made here
 *   first, so each refusal has its reason in the audit, not only a message.
 * - The signature counter is checked here, after the signature, in one atomic store step: a
 *   counter that does not move on is refused and audited as a clone. The library's own check is a
 *   read-then-write that two concurrent assertions could both pass.
 */
export class Passkeys implements PasskeySecondFactor {
  constructor(private readonly deps: PasskeyDeps) {}

  /**
   * Options for navigator.credentials.create(). Errors: `fresh_auth_required`, `mfa_email_unverified`,
   * `service_unavailable`.
   */
  async registrationOptions(signIn: SignInProof): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { passkeys, webauthn } = this.deps;
    const user = await this.freshUser(signIn);
    const existing = await passkeys.list(user.id);
    const challenge = await this.issue('register', user.id, user.id);
    return generateRegistrationOptions({
      rpName: webauthn.rpName,
      rpID: webauthn.rpId,
      userName: user.email,
      userDisplayName: user.name,
      // The user handle a discoverable credential returns at sign-in: our opaque id, no address in it (WebAuthn §14.6.1).
      userID: Buffer.from(user.id, 'utf8'),
      challenge,
      timeout: WEBAUTHN_CHALLENGE_LIFETIME_SECONDS * 1000,
      // No attestation: we do not check makers (no metadata service), and asking would only add a consent prompt.
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /**
   * Verifies navigator.credentials.create()'s answer and stores the passkey. Errors:
   * `fresh_auth_required`, `mfa_email_unverified`, `passkey_challenge_invalid`, `passkey_rejected`,
   * `passkey_already_registered`, `service_unavailable`.
   */
  async register(signIn: SignInProof, response: RegistrationResponseJSON, name: string | undefined): Promise<PasskeyView> {
    const { passkeys, webauthn, clock, audit } = this.deps;
    const user = await this.freshUser(signIn);
    try {
      const clientData = clientDataOf(response.response.clientDataJSON, 'webauthn.create');
      const challenge = await this.take(clientData, 'register', user.id);
      assertRpId(this.deps.webauthn.rpId, decoded(() => parseAuthenticatorData(decodeAttestationObject(Buffer.from(response.response.attestationObject, 'base64url')).get('authData'))));
      const verified = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: webauthn.origins, expectedRPID: webauthn.rpId, requireUserVerification: true }).catch(() => {
        throw new Refusal('passkey_rejected', 'signature', user.id);
      });
      if (!verified.verified) throw new Refusal('passkey_rejected', 'signature', user.id);
      const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
      const passkey = {
        id: randomId(),
        userId: user.id,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        signCount: credential.counter,
        transports: credential.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name: name ?? 'Passkey',
        createdAt: clock.now(),
      };
      if ((await passkeys.add(passkey)) === 'exists') throw new AuthError('passkey_already_registered');
      audit({ event: 'passkey.added', prn: user.id, passkey: passkey.id });
      this.notify(user, 'added');
      return viewOf({ ...passkey, lastUsedAt: undefined });
    } catch (error) {
      throw this.refused(error, 'register');
    }
  }

  async list(prn: string): Promise<PasskeyView[]> {
    return (await this.deps.passkeys.list(prn)).map(viewOf);
  }

  /** Errors: `passkey_not_found` (none of the user's), `service_unavailable`. */
  async rename(prn: string, id: string, name: string): Promise<void> {
    if (!(await this.deps.passkeys.rename(prn, id, name))) throw new AuthError('passkey_not_found');
    this.deps.audit({ event: 'passkey.renamed', prn, passkey: id });
  }

  /**
   * Removes a passkey, for a fresh sign-in that used a second factor (as removing an authenticator:
   * a password-only session must not undo a factor, review R3). A passwordless passkey sign-in is
   * multi-factor (`amr` holds `mfa`). Errors: `fresh_auth_required`, `auth_method_required`,
   * `passkey_not_found`, `service_unavailable`.
   */
  async remove(signIn: SignInProof, id: string): Promise<void> {
    const { passkeys, clock, audit, mfaSettings, users } = this.deps;
    assertFreshSignIn(signIn.authTime, clock.now(), mfaSettings.freshAuthMaxAgeSeconds);
    if (!signIn.amr?.includes('mfa')) throw new StepUpError('auth_method_required');
    if (!(await passkeys.remove(signIn.prn, id))) throw new AuthError('passkey_not_found');
    audit({ event: 'passkey.removed', prn: signIn.prn, passkey: id });
    const user = await users.get(signIn.prn);
    if (user) this.notify(user, 'removed');
  }

  /** Options for a passwordless navigator.credentials.get(): no allowCredentials (the authenticator offers its discoverable ones). */
  async loginOptions(client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = await this.issue('login', undefined, clientBinding(client));
    return generateAuthenticationOptions({ rpID: this.deps.webauthn.rpId, challenge, timeout: WEBAUTHN_CHALLENGE_LIFETIME_SECONDS * 1000, userVerification: 'required' });
  }

  /**
   * A passwordless sign-in's assertion; resolves to its enabled user. Errors: `passkey_challenge_invalid`,
   * `passkey_unknown` (no account has this credential: deleted here, still on the authenticator),
   * `passkey_rejected` (anything else, the reason in the audit), `service_unavailable`.
   */
  async authenticate(response: AuthenticationResponseJSON, client: ClientContext): Promise<PasskeyProof> {
    try {
      const clientData = clientDataOf(response.response.clientDataJSON, 'webauthn.get');
      const challenge = await this.take(clientData, 'login', clientBinding(client));
      const passkey = await this.deps.passkeys.byCredentialId(response.id);
      if (!passkey) throw new Refusal('passkey_unknown', 'unknown_credential');
      // The user handle names the account the authenticator created the credential for: it must be the owner we stored.
      const handle = response.response.userHandle;
      if (handle !== undefined && handle !== Buffer.from(passkey.userId, 'utf8').toString('base64url')) throw new Refusal('passkey_rejected', 'user_handle', passkey.userId);
      const user = await this.deps.users.get(passkey.userId);
      if (!user || user.disabled) throw new Refusal('passkey_rejected', 'disabled', passkey.userId);
      const userVerified = await this.verifyAssertion(response, challenge, passkey, true);
      return { user, userVerified };
    } catch (error) {
      throw this.refused(error, 'login');
    }
  }

  /** True when the user has a passkey: a password sign-in then waits for a second factor. */
  async has(userId: string): Promise<boolean> {
    return (await this.deps.passkeys.count(userId)) > 0;
  }

  /**
   * Options for the second factor of a sign-in waiting at `mfa_required`, bound to its ticket:
   * the user's passkeys as allowCredentials; user verification preferred, not required (the
   * password was the other factor; `amr` says `user` only when it happened).
   */
  async secondFactorOptions(ticketHash: string, userId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const own = await this.deps.passkeys.list(userId);
    const challenge = await this.issue('mfa', userId, ticketHash);
    return generateAuthenticationOptions({
      rpID: this.deps.webauthn.rpId,
      challenge,
      timeout: WEBAUTHN_CHALLENGE_LIFETIME_SECONDS * 1000,
      userVerification: 'preferred',
      allowCredentials: own.map((p) => ({ id: p.credentialId, transports: p.transports })),
    });
  }

  /** Checks a second-factor assertion against the ticket's challenge and the ticket's user. Never throws a refusal: returns it. */
  async verifySecondFactor(ticketHash: string, user: User, response: AuthenticationResponseJSON): Promise<SecondFactorPasskeyResult> {
    try {
      const clientData = clientDataOf(response.response.clientDataJSON, 'webauthn.get');
      const challenge = await this.take(clientData, 'mfa', ticketHash);
      const passkey = await this.deps.passkeys.byCredentialId(response.id);
      if (passkey?.userId !== user.id) throw new Refusal('passkey_rejected', passkey ? 'other_user' : 'unknown_credential', user.id);
      return { ok: true, userVerified: await this.verifyAssertion(response, challenge, passkey, false) };
    } catch (error) {
      const refusal = this.refused(error, 'mfa');
      if (refusal instanceof AuthError && (refusal.code === 'passkey_rejected' || refusal.code === 'passkey_challenge_invalid')) return { ok: false, code: refusal.code };
      throw refusal;
    }
  }

  /** The signature (by the library), then the counter (atomically, here); resolves to the UV flag. */
  private async verifyAssertion(response: AuthenticationResponseJSON, challenge: string, passkey: Passkey, requireUserVerification: boolean): Promise<boolean> {
    const { webauthn, passkeys, clock, audit } = this.deps;
    const authData = decoded(() => parseAuthenticatorData(Buffer.from(response.response.authenticatorData, 'base64url')));
    assertRpId(this.deps.webauthn.rpId, authData);
    if (requireUserVerification && !authData.flags.uv) throw new Refusal('passkey_rejected', 'user_not_verified', passkey.userId);
    const verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: webauthn.origins,
      expectedRPID: webauthn.rpId,
      // The counter is judged below, atomically with its update: 0 turns the library's own check off.
      credential: { id: passkey.credentialId, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: 0, transports: passkey.transports },
      requireUserVerification,
    }).catch(() => {
      throw new Refusal('passkey_rejected', 'signature', passkey.userId);
    });
    if (!verified.verified) throw new Refusal('passkey_rejected', 'signature', passkey.userId);
    const { newCounter, credentialBackedUp, userVerified } = verified.authenticationInfo;
    if (!(await passkeys.recordUse(passkey.id, { signCount: newCounter, backedUp: credentialBackedUp, now: clock.now() }))) {
      // A valid signature whose counter did not move on: another authenticator holds this key (WebAuthn §6.1.1).
      audit({ event: 'passkey.cloned', prn: passkey.userId, passkey: passkey.id, stored: passkey.signCount, presented: newCounter });
      throw new Refusal('passkey_rejected', 'counter', passkey.userId);
    }
    return userVerified;
  }

  /**
   * Takes the stored challenge the answer signed; it must have been issued for this purpose and
   * binding, and signed on one of our origins. The origin is judged after the challenge is taken:
   * a page elsewhere that relays our challenge (phishing) then spends it too.
   */
  private async take(clientData: ClientData, purpose: ChallengePurposeWebAuthn, binding: string): Promise<string> {
    const taken = await this.deps.passkeys.takeChallenge(hashChallenge(clientData.challenge), purpose, this.deps.clock.now());
    if (!taken) throw new Refusal('passkey_challenge_invalid', 'challenge');
    if (taken.binding !== binding) throw new Refusal('passkey_challenge_invalid', 'challenge_binding', taken.userId);
    if (!this.deps.webauthn.origins.includes(clientData.origin)) throw new Refusal('passkey_rejected', 'origin', taken.userId);
    return clientData.challenge;
  }

  /**
   * A new challenge (256 random bits), stored as the hash of its base64url form: the form
   * clientDataJSON carries back. Returned as bytes: the library encodes a string challenge's UTF-8.
   */
  private async issue(purpose: ChallengePurposeWebAuthn, userId: string | undefined, binding: string): Promise<Uint8Array<ArrayBuffer>> {
    const challenge = new Uint8Array(randomBytes(32));
    const now = this.deps.clock.now();
    const challengeHash = hashChallenge(Buffer.from(challenge).toString('base64url'));
    await this.deps.passkeys.issueChallenge({ challengeHash, purpose, userId, binding, createdAt: now, expiresAt: now + WEBAUTHN_CHALLENGE_LIFETIME_SECONDS * 1000 });
    return challenge;
  }

  private async freshUser(signIn: SignInProof): Promise<User> {
    const { users, clock, mfaSettings } = this.deps;
    assertFreshSignIn(signIn.authTime, clock.now(), mfaSettings.freshAuthMaxAgeSeconds);
    const user = await users.get(signIn.prn);
    if (!user) throw new StepUpError('fresh_auth_required');
    if (mfaSettings.enrolmentNeedsVerifiedEmail && !user.emailVerified) throw new AuthError('mfa_email_unverified');
    // Security review: a factor added on the strength of one factor would outlive the session
    // that added it, so where the account has one, adding another needs it (as removing does).
    if (!signIn.amr?.includes('mfa') && (await hasSecondFactor(this.deps.factors, this, user.id))) throw new StepUpError('auth_method_required');
    return user;
  }

  /** Audits a refusal and turns it into the error answered; other errors pass unchanged. */
  private refused(error: unknown, purpose: ChallengePurposeWebAuthn): unknown {
    if (!(error instanceof Refusal)) return error;
    this.deps.audit({ event: 'passkey.refused', purpose, reason: error.reason, ...(error.prn === undefined ? {} : { prn: error.prn }) });
    return new AuthError(error.code);
  }

  /** Removes every passkey of `userId` (an administrator's reset; audited, no mail: the caller sends one). Resolves to how many. */
  async removeAll(userId: string): Promise<number> {
    const { passkeys, audit } = this.deps;
    let removed = 0;
    for (const passkey of await passkeys.list(userId)) {
      if (!(await passkeys.remove(userId, passkey.id))) continue;
      audit({ event: 'passkey.removed', prn: userId, passkey: passkey.id });
      removed += 1;
    }
    return removed;
  }

  private notify(user: User, change: 'added' | 'removed'): void {
    this.deps.mailer?.send({ kind: 'second-factor-changed', to: user.email, name: user.name, change, factor: 'passkey' });
  }
}

function viewOf(passkey: Passkey): PasskeyView {
  const { id, name, deviceType, backedUp, transports, createdAt, lastUsedAt } = passkey;
  return { id, name, deviceType, backedUp, transports, createdAt, lastUsedAt };
}
