import type { ChallengeStore } from '../users/challenges.js';
import type { AccountMailer } from './account-mail.js';
import type { BackgroundWork } from './background.js';

/** The email flows' part of the configuration (durations in seconds). */
export interface EmailFlowSettings {
  /** JTS_EMAIL_VERIFICATION. */
  verification: 'required' | 'optional' | 'off';
  resetTokenLifetimeSeconds: number;
  verifyTokenLifetimeSeconds: number;
  loginCodeLifetimeSeconds: number;
  /** Base of the links in mails, no trailing slash (PUBLIC_URL, default the issuer). */
  publicUrl: string;
}

/** What the email flows need beyond the auth context. */
export interface EmailFlowDeps {
  challenges: ChallengeStore;
  mailer: AccountMailer;
  background: BackgroundWork;
  /** HMAC key for codes (≥ 32 bytes, the same on every instance). */
  codeKey: Buffer;
  emailSettings: EmailFlowSettings;
}
