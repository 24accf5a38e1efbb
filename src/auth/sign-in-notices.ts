import { createHmac } from 'node:crypto';
import { randomId } from '../jts/state-proof.js';
import type { SignInDeviceStore } from '../users/sign-in-devices.js';
import type { User, UserStore } from '../users/types.js';
import type { AccountMail, AccountMailer, NewSignInNotice } from './account-mail.js';
import type { BackgroundWork } from './background.js';
import { hashToken, newToken } from './challenge-secrets.js';
import { describeDevice, maskIp, type ClientContext } from './client-info.js';
import type { AuthContext, SignInNoticeSettings } from './context.js';
import type { EmailFlowDeps } from './email-deps.js';
import type { SessionOpenedListener, SessionOpening } from './open-session.js';

/** What the notices read: the device store and its hashing key, plus the email machinery. */
export interface SignInNoticeDeps extends Pick<AuthContext, 'clock' | 'audit'>, Pick<EmailFlowDeps, 'challenges' | 'emailSettings'> {
  devices: SignInDeviceStore;
  mailer: AccountMailer;
  background: BackgroundWork;
  /** HMAC key for device keys and networks (≥ 32 bytes, the same on every instance). */
  key: Buffer;
  settings: SignInNoticeSettings;
  /**
   * Notices mailed per account in the current hour (a window counter on the rate-limit stores:
   * Redis with a TTL, or memory). Absent: no bound (unit tests).
   */
  mailed?: { add(key: string): Promise<number> };
  /** The counter's store failed: logged by the caller; the notice is mailed (fails towards telling the owner). */
  onCounterError?: (error: unknown) => void;
}

/**
 * New sign-in notices mailed per account and hour; past it a new device is recorded but not mailed.
 * Without a bound, whoever holds the password made the server mail the owner once per sign-in from a
 * fresh device or network (and leave a live "this wasn't me" row per mail). Any one of the mailed
 * links ends every session, later ones included, so the owner loses nothing actionable.
 */
export const NOTICES_PER_HOUR = 5;
/** The window of NOTICES_PER_HOUR, for services.ts's counter. */
export const NOTICE_WINDOW_MS = 3_600_000;

/** Rows kept per account: the most recently seen devices (older ones simply count as new again). */
export const DEVICES_KEPT = 20;

/**
 * New sign-in notices (README, "Security notices"). A sign-in is recognised when either
 *
 * - its **device** signed in to the account within the window: the known-device value the browser
 *   or app presented for this account (http/middleware/known-device.ts), or the native app's
 *   X-JTS-Device-ID — wherever it signs in from; or
 * - the same **browser description on the same network** did ("Chrome on macOS" from
 *   203.0.113.x): the fallback for a browser that shows no known-device value (its first sign-in
 *   after registering, a passkey sign-in, which the cookie's path does not reach).
 *
 * Otherwise the owner is mailed the device, the masked network, the time and a "this wasn't me"
 * link. Registration records its device and mails nothing. All of it runs after the answer
 * (BackgroundWork): one read and one upsert of the account's rows, never on the sign-in's path;
 * a failure is logged, never answered.
 */
export class SignInNotices implements SessionOpenedListener {
  constructor(private readonly deps: SignInNoticeDeps) {}

  opened(user: User, client: ClientContext, event: SessionOpening, at: number): void {
    this.deps.background.run('new-sign-in', () => this.check(user, client, event, at));
  }

  /**
   * Whether the known-device value `nonce` signed in to `userId` within the window (and was not
   * forgotten since by "this wasn't me"): what the risk step-up asks before it trusts the value.
   */
  async knows(userId: string, nonce: string): Promise<boolean> {
    const { devices, settings, clock } = this.deps;
    const keyHash = this.hashFor(userId)(`known:${nonce}`);
    const seen = await devices.recent(userId, clock.now() - settings.windowSeconds * 1000);
    return seen.some((row) => row.keyHash === keyHash);
  }

  private hashFor(userId: string): (value: string) => string {
    return (value) => createHmac('sha256', this.deps.key).update(`${userId}|${value}`).digest('base64url');
  }

  private async check(user: User, client: ClientContext, event: SessionOpening, at: number): Promise<void> {
    const { devices, settings } = this.deps;
    const network = maskIp(client.ip);
    const device = describeDevice(client.userAgent);
    const hash = this.hashFor(user.id);
    const networkHash = hash(`network:${network}`);
    const strong = strongKeyOf(client);
    const keys = [...(strong === undefined ? [] : [hash(strong)]), hash(`browser:${device}|${network}`)];
    const seen = event === 'register' ? [] : await devices.recent(user.id, at - settings.windowSeconds * 1000);
    const known = seen.some((row) => keys.includes(row.keyHash));
    await devices.record(user.id, keys.map((keyHash) => ({ keyHash, networkHash })), at, DEVICES_KEPT);
    if (event === 'register' || known) return;
    if (!(await this.withinBound(user.id))) {
      this.deps.audit({ event: 'sign_in.notice_suppressed', prn: user.id });
      return;
    }
    await this.notify(user, { device, network, at });
  }

  private async withinBound(userId: string): Promise<boolean> {
    const { mailed, onCounterError } = this.deps;
    if (!mailed) return true;
    try {
      return (await mailed.add(userId)) <= NOTICES_PER_HOUR;
    } catch (error) {
      onCounterError?.(error);
      return true;
    }
  }

  /**
   * Hands the notice to the mailer as facts: the "this wasn't me" token is minted when the mail
   * leaves (withNotMeLink), so a notice waiting in the outbox holds no usable token.
   */
  private notify(user: User, seen: { device: string; network: string; at: number }): Promise<void> {
    this.deps.audit({ event: 'sign_in.new_device', prn: user.id });
    this.deps.mailer.send({
      kind: 'new-sign-in',
      to: user.email,
      name: user.name,
      userId: user.id,
      credentialEpoch: user.credentialEpoch,
      device: seen.device,
      network: seen.network,
      at: new Date(seen.at).toISOString(),
    });
    return Promise.resolve();
  }
}

/** What minting a notice's link reads. */
export type NotMeLinkDeps = Pick<SignInNoticeDeps, 'challenges' | 'clock' | 'audit' | 'settings' | 'emailSettings'> & { users: Pick<UserStore, 'get'> };

/**
 * The mail of a queued new sign-in notice, with a fresh "this wasn't me" link: called by whoever
 * delivers it, just before it is sent. The token is issued under the credential epoch of the
 * sign-in, not today's: after a password change in between, the link still ends every session but
 * answers no reset token (reportNotMe), as it would have had the mail left at once. Its lifetime
 * counts from now, the mail's departure. The not-me purpose allows several live tokens, so each
 * attempt of a retried mail may issue one; the unsent ones expire unused (only their hashes are
 * stored). Undefined when the account is gone: nothing to tell, nothing to end.
 */
export async function withNotMeLink(deps: NotMeLinkDeps, notice: NewSignInNotice): Promise<AccountMail | undefined> {
  const { challenges, clock, audit, settings, emailSettings, users } = deps;
  const user = await users.get(notice.userId);
  if (!user) return undefined;
  const token = newToken();
  const now = clock.now();
  const lifetime = settings.notMeTokenLifetimeSeconds;
  await challenges.issue({ id: randomId(), userId: notice.userId, purpose: 'not-me', secretHash: hashToken(token), credentialEpoch: notice.credentialEpoch, maxAttempts: 1, createdAt: now, expiresAt: now + lifetime * 1000 });
  audit({ event: 'challenge.issued', purpose: 'not-me', prn: notice.userId });
  return {
    kind: 'new-sign-in',
    // The account's address now, not the one it had when the notice was queued: the address may have
    // changed while the notice waited (POST /jts/account/email), and a "this wasn't me" link must
    // never reach a mailbox the account left (security review).
    to: user.email,
    name: notice.name,
    device: notice.device,
    network: notice.network,
    at: notice.at,
    link: `${emailSettings.publicUrl}/#not-me=${token}`,
    expiresInMinutes: Math.round(lifetime / 60),
  };
}

/** The device key a client proves: a native app's device id, or a browser's known-device value for this account. */
function strongKeyOf(client: ClientContext): string | undefined {
  if (client.deviceId !== undefined) return `native:${client.deviceId}`;
  const value = client.knownDevice ?? client.issuedDevice;
  return value === undefined ? undefined : `known:${value}`;
}

/** The HMAC key of the device table, derived so the StateProof secret is never used for two purposes. */
export function deriveSignInDeviceKey(stateProofSecret: Buffer): Buffer {
  return createHmac('sha256', stateProofSecret).update('jts-sign-in-devices/v1').digest();
}
