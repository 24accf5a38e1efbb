import type { EndedSessionLog } from '../sessions/ended-sessions.js';
import type { UserStore } from '../users/types.js';
import type { AccountMailer } from './account-mail.js';
import type { AuditSink } from './audit.js';
import type { BackgroundWork } from './background.js';
import { describeDevice, maskIp, type ClientContext } from './client-info.js';

/** What a renewal knows when the store reports a replay. */
export interface ReplayReport {
  prn: string;
  /** Ms since the epoch. */
  at: number;
  /** Who presented the StateProof. */
  client: ClientContext;
  /**
   * The sessions the store ended for it (the session of the StateProof first; every session of the
   * user with JTS_REPLAY_REVOKE=principal), with what renewal read or remembered of each
   * (undefined: not known).
   */
  ended: readonly { aid: string; device: string | undefined; signedInAt: number | undefined }[];
}

export interface TheftAlertDeps {
  users: Pick<UserStore, 'get'>;
  ended: EndedSessionLog;
  mailer: AccountMailer | undefined;
  background: BackgroundWork;
  /** Where the user signs in again (PUBLIC_URL), named in the mail as advice. */
  appUrl: string;
  /** Alerts mailed per account this hour (a window counter beside the rate limits); absent: no bound. */
  mailed?: { add(key: string): Promise<number> };
  /** The counter's store failed: logged by the caller; the alert is mailed. */
  onCounterError?: (error: unknown) => void;
  audit?: AuditSink;
}

/**
 * Theft alert mails per account and hour. Whoever holds the password can open a session, renew it
 * and replay its own first StateProof as often as the login limits allow: without a bound, one mail
 * to the owner each time. Past it the session is still ended and listed; only the mail is left out.
 */
export const THEFT_ALERTS_PER_HOUR = 5;
/** The window of THEFT_ALERTS_PER_HOUR, for services.ts's counter. */
export const THEFT_ALERT_WINDOW_MS = 3_600_000;

/**
 * Theft alerts (README, "Token theft alerts"): a detected replay is recorded in the owner's list
 * of ended sessions and mailed to the account's address — both after the 401 has been answered
 * (BackgroundWork), so the renewal's answer and its timing never wait on SQL or SMTP.
 *
 * One alert per detection: the session store reports a replay once per session, atomically, and
 * answers `compromised` to every later presentation (renewal.ts), so a stolen StateProof presented
 * fifty times mails once. A report that ended nothing (a race with another ending) mails nothing.
 */
export class TheftAlerts {
  constructor(private readonly deps: TheftAlertDeps) {}

  replayDetected(report: ReplayReport): void {
    if (report.ended.length === 0) return;
    this.deps.background.run('token-theft', () => this.alert(report));
  }

  private async alert(report: ReplayReport): Promise<void> {
    const { users, ended, mailer, appUrl } = this.deps;
    // The record first: a mail that fails (retried by the sender) must not cost the list its line.
    await ended.record(
      report.prn,
      report.ended.map((session) => ({ aid: session.aid, device: session.device ?? '', endedAt: report.at, reason: 'token_theft' as const })),
    );
    const user = await users.get(report.prn);
    if (!user || user.disabled || !mailer) return;
    if (!(await this.withinBound(user.id))) {
      this.deps.audit?.({ event: 'theft_alert.suppressed', prn: user.id });
      return;
    }
    mailer.send({
      kind: 'token-theft',
      to: user.email,
      name: user.name,
      presentedBy: { device: describeDevice(report.client.userAgent), network: maskIp(report.client.ip) },
      at: report.at,
      ended: report.ended.map((session) => ({ device: session.device ?? '', ...(session.signedInAt === undefined ? {} : { signedInAt: session.signedInAt }) })),
      appUrl,
    });
  }

  private async withinBound(userId: string): Promise<boolean> {
    const { mailed, onCounterError } = this.deps;
    if (!mailed) return true;
    try {
      return (await mailed.add(userId)) <= THEFT_ALERTS_PER_HOUR;
    } catch (error) {
      onCounterError?.(error);
      return true;
    }
  }
}
