import type { BearerPassIssuer } from '../jts/bearer-pass/mint.js';
import type { Clock } from '../jts/clock.js';
import type { StateProofCodec } from '../jts/state-proof.js';
import type { SessionPolicy } from '../sessions/policy.js';
import type { EndedSessionLog } from '../sessions/ended-sessions.js';
import type { SessionStore } from '../sessions/types.js';
import type { PasswordHasher } from '../users/password.js';
import type { UserStore } from '../users/types.js';
import type { AuditSink } from './audit.js';
import { CredentialMinter } from './credentials.js';
import type { EmailFlowDeps } from './email-deps.js';
import { RenewFactsCache } from './renew-facts.js';
import type { SecondFactorStore } from '../users/factors.js';
import type { PasskeyStore } from '../users/passkeys.js';
import type { WebAuthnSettings } from '../config/webauthn.js';
import type { SignInDeviceStore } from '../users/sign-in-devices.js';
import type { SignInRiskDeps } from './sign-in-risk.js';

/** The auth server's part of the configuration (durations in seconds). */
export interface AuthServerSettings {
  bearerPassLifetimeSeconds: number;
  stateProofLifetimeSeconds: number;
  rotationGraceSeconds: number;
  /** What a detected replay revokes: the session, or every session of its user. */
  replayRevoke: 'session' | 'principal';
  sessionPolicy: SessionPolicy;
  allowRegistration: boolean;
  /** JTS_MFA_REQUIRED_FOR: permissions a BearerPass carries only when its sign-in used a second factor. */
  mfaRequiredFor?: readonly string[];
  /** JTS_NOT_ME_TOKEN_LIFETIME (seconds): also how long an address-change notice can undo the change; default 7 days. */
  notMeTokenLifetimeSeconds?: number;
}

/** What JTSAuthServer is built from (see services.ts). */
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
  /** Password reset, email verification and sign-in codes; without it those methods throw (a wiring bug). */
  email?: EmailFlowDeps;
  /** Second factors (TOTP, recovery codes); without it no account is asked for one and the MFA methods throw (a wiring bug). */
  mfa?: { factors: SecondFactorStore; factorKey: Buffer; mfaSettings: MfaSettings };
  /** Passkeys (needs `mfa`: they share its settings and become a second factor); without it the passkey methods throw (a wiring bug). */
  passkeys?: { store: PasskeyStore; webauthn: WebAuthnSettings };
  /** Recently ended sessions, listed to their owner (theft alerts write it; needs `email` for the alerts). */
  endedSessions?: EndedSessionLog;
  /** Theft alert mails per account this hour (theft-alerts.ts, THEFT_ALERTS_PER_HOUR); absent: no bound. */
  theftAlertsMailed?: { add(key: string): Promise<number>; onError(error: unknown): void };
  /** New sign-in notices (needs `email`); absent: JTS_SIGN_IN_NOTICES=off. */
  notices?: {
    devices: SignInDeviceStore;
    key: Buffer;
    settings: SignInNoticeSettings;
    /** Notices mailed per account this hour (sign-in-notices.ts, NOTICES_PER_HOUR). */
    mailed?: { add(key: string): Promise<number> };
    onCounterError?: (error: unknown) => void;
  };
  /**
   * Told after an account's address changed (account-email.ts, not-me.ts), with the row's new
   * version (one change, one version: the operators' webhook keys its event by it). Must not throw.
   */
  onEmailChanged?: (prn: string, via: 'link' | 'not_me', version: number) => void;
  /** Risk-based step-up; absent: JTS_RISK_FAILED_SIGN_INS=off. */
  risk?: Omit<SignInRiskDeps, 'audit'>;
}

/** The new sign-in notice's part of the configuration (durations in seconds; sign-in-notices.ts). */
export interface SignInNoticeSettings {
  /** JTS_SIGN_IN_NOTICE_WINDOW: how long a device counts as known after its last sign-in. */
  windowSeconds: number;
  /** JTS_NOT_ME_TOKEN_LIFETIME: how long the "this wasn't me" link works. */
  notMeTokenLifetimeSeconds: number;
}

/** The second-factor part of the configuration. */
export interface MfaSettings {
  /** The issuer an authenticator app shows next to the account (MAIL_PRODUCT_NAME). */
  issuerName: string;
  /** JTS_FRESH_AUTH_MAX_AGE: how recent a sign-in enrolling or removing a factor needs (seconds). */
  freshAuthMaxAgeSeconds: number;
  /**
   * Enrolment needs a verified address (true unless JTS_EMAIL_VERIFICATION=off): an authenticator
   * added to a pre-registered address would lock its real owner out after their first mailbox
   * proof, which voids the squatter's password but cannot void a factor (review R2).
   */
  enrolmentNeedsVerifiedEmail: boolean;
}

/**
 * What the use cases (sign-in, renewal, account, own sessions) are built from: the deps plus
 * the two pieces they share, made once per server. Each use case declares the members it reads
 * as a `Pick` of this, so its tests build only those.
 */
export interface AuthContext extends Omit<AuthServerDeps, 'renewFactsCapacity' | 'email' | 'mfa' | 'passkeys' | 'endedSessions' | 'notices' | 'risk' | 'theftAlertsMailed' | 'onEmailChanged'> {
  /** Shared because every use case that ends a session must forget its facts. */
  renewFacts: RenewFactsCache;
  credentials: CredentialMinter;
}

/** Builds the shared pieces from the deps; the stores, hasher and clock are passed on as they are. */
export function createAuthContext(deps: AuthServerDeps): AuthContext {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- taken out: the email flows and second factors get their deps apart (auth-server.ts)
  const { renewFactsCapacity, email, mfa, passkeys, endedSessions, notices, risk, theftAlertsMailed, onEmailChanged, ...shared } = deps;
  const { mint, stateProofs, clock, settings } = deps;
  return {
    ...shared,
    renewFacts: new RenewFactsCache(renewFactsCapacity),
    credentials: new CredentialMinter({
      mint,
      stateProofs,
      clock,
      stateProofLifetimeSeconds: settings.stateProofLifetimeSeconds,
      sessionPolicy: settings.sessionPolicy,
      ...(settings.mfaRequiredFor === undefined ? {} : { mfaRequiredFor: settings.mfaRequiredFor }),
    }),
  };
}
