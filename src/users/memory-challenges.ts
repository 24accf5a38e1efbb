import { NOTICE_TOKEN_PURPOSES, type ChallengePurpose, type ChallengeStore, type CodeUse, type LiveCode, type NewChallenge, type TokenUse } from './challenges.js';
import type { UserStore } from './types.js';

interface Row extends NewChallenge {
  attempts: number;
  consumedAt: number | undefined;
}

/** In-process challenges for development and tests, beside MemoryUserStore (same contract as the SQL store). */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly users: Pick<UserStore, 'get'>) {}

  issue(challenge: NewChallenge): Promise<void> {
    for (const [id, row] of this.rows) {
      if (row.userId !== challenge.userId) continue;
      if (row.expiresAt <= challenge.createdAt) this.rows.delete(id);
      else if (row.purpose === challenge.purpose && row.consumedAt === undefined && !NOTICE_TOKEN_PURPOSES.has(row.purpose)) row.consumedAt = challenge.createdAt;
    }
    this.rows.set(challenge.id, { ...challenge, attempts: 0, consumedAt: undefined });
    return Promise.resolve();
  }

  async inspectToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse> {
    const row = this.byHash(secretHash, purpose);
    if (!row) return { outcome: 'invalid' };
    return this.judge(row, (await this.users.get(row.userId))?.credentialEpoch, now);
  }

  async consumeToken(secretHash: string, purpose: ChallengePurpose, now: number): Promise<TokenUse> {
    const row = this.byHash(secretHash, purpose);
    if (!row) return { outcome: 'invalid' };
    const epoch = (await this.users.get(row.userId))?.credentialEpoch;
    // Judged and marked with no await between: one caller wins.
    const use = this.judge(row, epoch, now);
    if (use.outcome === 'consumed') row.consumedAt = now;
    return use;
  }

  endOutstanding(userId: string, now: number): Promise<number> {
    let ended = 0;
    for (const row of this.rows.values()) {
      if (row.userId !== userId || row.consumedAt !== undefined || row.expiresAt <= now || NOTICE_TOKEN_PURPOSES.has(row.purpose)) continue;
      row.consumedAt = now;
      ended += 1;
    }
    return Promise.resolve(ended);
  }

  async liveCode(userId: string, purpose: ChallengePurpose, now: number): Promise<LiveCode | undefined> {
    const epoch = (await this.users.get(userId))?.credentialEpoch;
    const live = [...this.rows.values()].filter((row) => row.userId === userId && row.purpose === purpose && row.attempts < row.maxAttempts && this.judge(row, epoch, now).outcome === 'consumed');
    const latest = live.sort((a, b) => b.createdAt - a.createdAt)[0];
    return latest && { id: latest.id };
  }

  async useCode(id: string, secretHash: string, now: number): Promise<CodeUse> {
    const row = this.rows.get(id);
    if (!row) return { outcome: 'none' };
    const epoch = (await this.users.get(row.userId))?.credentialEpoch;
    if (row.attempts >= row.maxAttempts || this.judge(row, epoch, now).outcome !== 'consumed') return { outcome: 'none' };
    row.attempts += 1;
    if (row.secretHash !== secretHash) return { outcome: 'wrong', attemptsLeft: row.maxAttempts - row.attempts };
    row.consumedAt = now;
    return { outcome: 'consumed', userId: row.userId };
  }

  private byHash(secretHash: string, purpose: ChallengePurpose): Row | undefined {
    for (const row of this.rows.values()) if (row.secretHash === secretHash && row.purpose === purpose) return row;
    return undefined;
  }

  /** The checks in the SQL store's order: used, expired, voided. */
  private judge(row: Row, epoch: number | undefined, now: number): TokenUse {
    if (row.consumedAt !== undefined) return { outcome: 'used' };
    if (row.expiresAt <= now) return { outcome: 'expired' };
    if (epoch === undefined || (epoch !== row.credentialEpoch && !NOTICE_TOKEN_PURPOSES.has(row.purpose))) return { outcome: 'voided' };
    return { outcome: 'consumed', userId: row.userId, credentialEpoch: row.credentialEpoch, ...(row.email === undefined ? {} : { email: row.email }) };
  }
}
