import type { FactorUse, LiveMfaTicket, NewMfaTicket, SecondFactorStore, TotpFactor } from './factors.js';

interface TicketRow extends NewMfaTicket {
  attempts: number;
  consumedAt: number | undefined;
}

/**
 * In-process second factors for development and tests, beside MemoryUserStore (same contract as
 * the SQL store). Each method judges and writes with no await in between, so one caller wins.
 */
export class MemorySecondFactorStore implements SecondFactorStore {
  private readonly factors = new Map<string, TotpFactor>();
  /** userId → code hash → used at (undefined: unused). */
  private readonly codes = new Map<string, Map<string, number | undefined>>();
  private readonly tickets = new Map<string, TicketRow>();

  enrolTotp(userId: string, secretSealed: string, now: number): Promise<'enrolled' | 'confirmed_exists'> {
    if (this.factors.get(userId)?.confirmed) return Promise.resolve('confirmed_exists');
    this.factors.set(userId, { userId, secretSealed, confirmed: false, lastStep: -1, createdAt: now, confirmedAt: undefined });
    return Promise.resolve('enrolled');
  }

  totp(userId: string): Promise<TotpFactor | undefined> {
    const factor = this.factors.get(userId);
    return Promise.resolve(factor && { ...factor });
  }

  confirmTotp(userId: string, secretSealed: string, step: number, recoveryCodeHashes: string[], now: number, startedAfter: number): Promise<boolean> {
    const factor = this.factors.get(userId);
    if (!factor || factor.confirmed || factor.secretSealed !== secretSealed || factor.createdAt <= startedAfter || factor.lastStep >= step) return Promise.resolve(false);
    Object.assign(factor, { confirmed: true, confirmedAt: now, lastStep: step });
    this.codes.set(userId, new Map(recoveryCodeHashes.map((hash) => [hash, undefined])));
    return Promise.resolve(true);
  }

  acceptTotpStep(userId: string, step: number): Promise<boolean> {
    const factor = this.factors.get(userId);
    if (!factor?.confirmed || factor.lastStep >= step) return Promise.resolve(false);
    factor.lastStep = step;
    return Promise.resolve(true);
  }

  removeTotp(userId: string): Promise<boolean> {
    this.codes.delete(userId);
    return Promise.resolve(this.factors.delete(userId));
  }

  useRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    const codes = this.codes.get(userId);
    if (!codes?.has(codeHash) || codes.get(codeHash) !== undefined) return Promise.resolve(false);
    codes.set(codeHash, now);
    return Promise.resolve(true);
  }

  recoveryCodesLeft(userId: string): Promise<number> {
    return Promise.resolve([...(this.codes.get(userId)?.values() ?? [])].filter((usedAt) => usedAt === undefined).length);
  }

  issueTicket(ticket: NewMfaTicket): Promise<void> {
    for (const [hash, row] of this.tickets) if (row.userId === ticket.userId) this.tickets.delete(hash);
    this.tickets.set(ticket.ticketHash, { ...ticket, attempts: 0, consumedAt: undefined });
    return Promise.resolve();
  }

  liveTicket(ticketHash: string, now: number): Promise<LiveMfaTicket | undefined> {
    const row = this.live(ticketHash, now);
    return Promise.resolve(row && { purpose: row.purpose, userId: row.userId, clientHash: row.clientHash, firstFactor: row.firstFactor, credentialEpoch: row.credentialEpoch });
  }

  reserveTicketAttempt(ticketHash: string, now: number): Promise<number | undefined> {
    const row = this.live(ticketHash, now);
    if (!row) return Promise.resolve(undefined);
    row.attempts += 1;
    return Promise.resolve(row.maxAttempts - row.attempts);
  }

  consumeTicket(ticketHash: string, userId: string, use: FactorUse, now: number): Promise<'consumed' | 'ticket_lost' | 'factor_refused'> {
    const row = this.tickets.get(ticketHash);
    if (!row || row.userId !== userId || row.purpose !== ('enrolment' in use ? 'enrol' : 'verify') || row.consumedAt !== undefined || row.expiresAt <= now || row.attempts > row.maxAttempts) return Promise.resolve('ticket_lost');
    if ('enrolment' in use) {
      const { secretSealed, totpStep, recoveryCodeHashes, startedAfter } = use.enrolment;
      const factor = this.factors.get(userId);
      if (!factor || factor.confirmed || factor.secretSealed !== secretSealed || factor.createdAt <= startedAfter || factor.lastStep >= totpStep) return Promise.resolve('factor_refused');
      Object.assign(factor, { confirmed: true, confirmedAt: now, lastStep: totpStep });
      this.codes.set(userId, new Map(recoveryCodeHashes.map((hash) => [hash, undefined])));
    } else if ('passkey' in use) {
      // Verified by passkeys.ts: only the ticket is spent.
    } else if ('recoveryCodeHash' in use) {
      const codes = this.codes.get(userId);
      if (!codes?.has(use.recoveryCodeHash) || codes.get(use.recoveryCodeHash) !== undefined) return Promise.resolve('factor_refused');
      codes.set(use.recoveryCodeHash, now);
    } else {
      const factor = this.factors.get(userId);
      if (!factor?.confirmed || factor.lastStep >= use.totpStep) return Promise.resolve('factor_refused');
      factor.lastStep = use.totpStep;
    }
    row.consumedAt = now;
    return Promise.resolve('consumed');
  }

  private live(ticketHash: string, now: number): TicketRow | undefined {
    const row = this.tickets.get(ticketHash);
    return row && row.consumedAt === undefined && row.expiresAt > now && row.attempts < row.maxAttempts ? row : undefined;
  }
}
