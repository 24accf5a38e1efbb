import type { ChallengePurposeWebAuthn, NewPasskey, NewWebAuthnChallenge, Passkey, PasskeyStore, PasskeyUse, TakenWebAuthnChallenge } from './passkeys.js';

/**
 * In-process passkeys for development and tests, beside MemoryUserStore (same contract as the SQL
 * store). Each method judges and writes with no await in between, so one caller wins.
 */
export class MemoryPasskeyStore implements PasskeyStore {
  private readonly passkeys = new Map<string, Passkey>();
  private readonly challenges = new Map<string, NewWebAuthnChallenge>();

  add(passkey: NewPasskey): Promise<'added' | 'exists'> {
    if ([...this.passkeys.values()].some((p) => p.credentialId === passkey.credentialId)) return Promise.resolve('exists');
    this.passkeys.set(passkey.id, { ...passkey, transports: [...passkey.transports], lastUsedAt: undefined });
    return Promise.resolve('added');
  }

  byCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const found = [...this.passkeys.values()].find((p) => p.credentialId === credentialId);
    return Promise.resolve(found && copy(found));
  }

  list(userId: string): Promise<Passkey[]> {
    return Promise.resolve(
      [...this.passkeys.values()]
        .filter((p) => p.userId === userId)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map(copy),
    );
  }

  count(userId: string): Promise<number> {
    return Promise.resolve([...this.passkeys.values()].filter((p) => p.userId === userId).length);
  }

  rename(userId: string, id: string, name: string): Promise<boolean> {
    const passkey = this.passkeys.get(id);
    if (passkey?.userId !== userId) return Promise.resolve(false);
    passkey.name = name;
    return Promise.resolve(true);
  }

  remove(userId: string, id: string): Promise<boolean> {
    if (this.passkeys.get(id)?.userId !== userId) return Promise.resolve(false);
    return Promise.resolve(this.passkeys.delete(id));
  }

  recordUse(id: string, use: PasskeyUse): Promise<boolean> {
    const passkey = this.passkeys.get(id);
    if (!passkey || !(use.signCount > passkey.signCount || (use.signCount === 0 && passkey.signCount === 0))) return Promise.resolve(false);
    Object.assign(passkey, { signCount: use.signCount, backedUp: use.backedUp, lastUsedAt: use.now });
    return Promise.resolve(true);
  }

  issueChallenge(challenge: NewWebAuthnChallenge): Promise<void> {
    for (const [hash, row] of this.challenges) if (row.expiresAt <= challenge.createdAt) this.challenges.delete(hash);
    this.challenges.set(challenge.challengeHash, { ...challenge });
    return Promise.resolve();
  }

  takeChallenge(challengeHash: string, purpose: ChallengePurposeWebAuthn, now: number): Promise<TakenWebAuthnChallenge | undefined> {
    const row = this.challenges.get(challengeHash);
    if (!row || row.purpose !== purpose || row.expiresAt <= now) return Promise.resolve(undefined);
    this.challenges.delete(challengeHash);
    return Promise.resolve({ purpose: row.purpose, userId: row.userId, binding: row.binding });
  }
}

function copy(passkey: Passkey): Passkey {
  return { ...passkey, transports: [...passkey.transports] };
}
