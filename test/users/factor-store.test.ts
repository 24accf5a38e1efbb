import { randomBytes } from 'node:crypto';
import type { AccountsDatabase } from '../../src/accounts/database';
import { SqlSecondFactorStore } from '../../src/accounts/sql-factor-store';
import { SqlUserStore } from '../../src/accounts/sql-user-store';
import type { NewMfaTicket, SecondFactorStore } from '../../src/users/factors';
import { MemorySecondFactorStore } from '../../src/users/memory-factors';
import { MemoryUserStore } from '../../src/users/memory-store';
import { newUser } from '../../src/users/new-user';
import type { User, UserStore } from '../../src/users/types';
import { openTestDatabase } from '../support/accounts';

const NOW = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
/** Enrolments started after this may be confirmed (the tests' enrolments start at NOW or later). */
const STARTED_AFTER = NOW - 15 * MINUTE;

/** The contract every second-factor store keeps: real PostgreSQL, PGlite, and the memory store. */
describe.each(['postgres', 'pglite', 'memory'] as const)('%s second-factor store', (kind) => {
  let users: UserStore;
  let store: SecondFactorStore;
  let database: AccountsDatabase | undefined;
  let ada: User;

  beforeEach(async () => {
    if (kind === 'memory') {
      users = new MemoryUserStore();
      store = new MemorySecondFactorStore();
    } else {
      database = await openTestDatabase(kind);
      users = new SqlUserStore(database.db);
      store = new SqlSecondFactorStore(database.db);
    }
    ada = newUser({ email: `ada${randomBytes(3).toString('hex')}@example.com`, name: 'Ada', passwordHash: 'h1', permissions: [] }, NOW);
    await users.create(ada);
  });
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  async function confirmed(step = 100, codes = ['c1', 'c2']): Promise<void> {
    await store.enrolTotp(ada.id, 'sealed-1', NOW);
    await expect(store.confirmTotp(ada.id, 'sealed-1', step, codes, NOW, STARTED_AFTER)).resolves.toBe(true);
  }

  const ticket = (overrides: Partial<NewMfaTicket> = {}): NewMfaTicket => ({
    purpose: 'verify',
    ticketHash: randomBytes(32).toString('hex'),
    userId: ada.id,
    clientHash: 'client-a',
    firstFactor: 'pwd',
    credentialEpoch: 0,
    maxAttempts: 3,
    createdAt: NOW,
    expiresAt: NOW + 5 * MINUTE,
    ...overrides,
  });

  it('keeps an enrolment unconfirmed until confirmed, replaces an unconfirmed one, and refuses to replace a confirmed one', async () => {
    await expect(store.enrolTotp(ada.id, 'sealed-1', NOW)).resolves.toBe('enrolled');
    await expect(store.totp(ada.id)).resolves.toEqual({ userId: ada.id, secretSealed: 'sealed-1', confirmed: false, lastStep: -1, createdAt: NOW, confirmedAt: undefined });
    await expect(store.enrolTotp(ada.id, 'sealed-2', NOW + MINUTE)).resolves.toBe('enrolled');
    // The first secret's code cannot confirm the second enrolment.
    await expect(store.confirmTotp(ada.id, 'sealed-1', 100, ['c1'], NOW + MINUTE, STARTED_AFTER)).resolves.toBe(false);
    await expect(store.confirmTotp(ada.id, 'sealed-2', 100, ['c1'], NOW + MINUTE, STARTED_AFTER)).resolves.toBe(true);
    await expect(store.totp(ada.id)).resolves.toMatchObject({ secretSealed: 'sealed-2', confirmed: true, lastStep: 100, confirmedAt: NOW + MINUTE });
    await expect(store.enrolTotp(ada.id, 'sealed-3', NOW + 2 * MINUTE)).resolves.toBe('confirmed_exists');
    await expect(store.totp(ada.id)).resolves.toMatchObject({ secretSealed: 'sealed-2', confirmed: true });
    await expect(store.confirmTotp(ada.id, 'sealed-2', 101, ['c1'], NOW, STARTED_AFTER)).resolves.toBe(false);
  });

  it('accepts each time step once, only after the last accepted one, and only for a confirmed factor', async () => {
    await store.enrolTotp(ada.id, 'sealed-1', NOW);
    await expect(store.acceptTotpStep(ada.id, 100)).resolves.toBe(false);
    await expect(store.confirmTotp(ada.id, 'sealed-1', 100, [], NOW, STARTED_AFTER)).resolves.toBe(true);
    await expect(store.acceptTotpStep(ada.id, 100)).resolves.toBe(false);
    await expect(store.acceptTotpStep(ada.id, 99)).resolves.toBe(false);
    await expect(store.acceptTotpStep(ada.id, 101)).resolves.toBe(true);
    await expect(store.acceptTotpStep(ada.id, 101)).resolves.toBe(false);
    await expect(store.totp(ada.id)).resolves.toMatchObject({ lastStep: 101 });
  });

  it('lets exactly one of ten concurrent uses of one step win', async () => {
    await confirmed(100);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.acceptTotpStep(ada.id, 101)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('uses each recovery code once, counts those left, and lets one of concurrent uses win', async () => {
    await confirmed(100, ['c1', 'c2', 'c3']);
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(3);
    await expect(store.useRecoveryCode(ada.id, 'c1', NOW)).resolves.toBe(true);
    await expect(store.useRecoveryCode(ada.id, 'c1', NOW)).resolves.toBe(false);
    await expect(store.useRecoveryCode(ada.id, 'nope', NOW)).resolves.toBe(false);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.useRecoveryCode(ada.id, 'c2', NOW)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(1);
  });

  it("does not let one account's recovery code work for another", async () => {
    await confirmed(100, ['c1']);
    const bob = newUser({ email: `bob${randomBytes(3).toString('hex')}@example.com`, name: 'Bob', passwordHash: 'h', permissions: [] }, NOW);
    await users.create(bob);
    await expect(store.useRecoveryCode(bob.id, 'c1', NOW)).resolves.toBe(false);
  });

  it('removes the factor with its recovery codes; removing nothing is false', async () => {
    await confirmed(100, ['c1']);
    await expect(store.removeTotp(ada.id)).resolves.toBe(true);
    await expect(store.totp(ada.id)).resolves.toBeUndefined();
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(0);
    await expect(store.useRecoveryCode(ada.id, 'c1', NOW)).resolves.toBe(false);
    await expect(store.removeTotp(ada.id)).resolves.toBe(false);
  });

  it('gives a new confirmation a new set of recovery codes (the old ones die)', async () => {
    await confirmed(100, ['old']);
    await store.removeTotp(ada.id);
    await confirmed(200, ['new']);
    await expect(store.useRecoveryCode(ada.id, 'old', NOW)).resolves.toBe(false);
    await expect(store.useRecoveryCode(ada.id, 'new', NOW)).resolves.toBe(true);
  });

  it('consumes a ticket once with its factor; of concurrent completions with two right recovery codes one wins and the other code stays unused', async () => {
    await confirmed(100, ['c1', 'c2', 'c3']);
    const t = ticket();
    await store.issueTicket(t);
    await expect(store.liveTicket(t.ticketHash, NOW + MINUTE)).resolves.toEqual({ purpose: 'verify', userId: ada.id, clientHash: 'client-a', firstFactor: 'pwd', credentialEpoch: 0 });
    await expect(store.reserveTicketAttempt(t.ticketHash, NOW + MINUTE)).resolves.toBe(2);
    await expect(store.reserveTicketAttempt(t.ticketHash, NOW + MINUTE)).resolves.toBe(1);
    const results = await Promise.all([store.consumeTicket(t.ticketHash, ada.id, { recoveryCodeHash: 'c1' }, NOW + MINUTE), store.consumeTicket(t.ticketHash, ada.id, { recoveryCodeHash: 'c2' }, NOW + MINUTE)]);
    expect(results.sort()).toEqual(['consumed', 'ticket_lost']);
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(2);
    await expect(store.liveTicket(t.ticketHash, NOW + MINUTE)).resolves.toBeUndefined();
    await expect(store.reserveTicketAttempt(t.ticketHash, NOW + MINUTE)).resolves.toBeUndefined();
    await expect(store.consumeTicket(t.ticketHash, ada.id, { recoveryCodeHash: 'c3' }, NOW + MINUTE)).resolves.toBe('ticket_lost');
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(2);
  });

  it('spends nothing but the reserved attempt when the factor is refused (a used or unknown code, a replayed step), and never another account’s ticket', async () => {
    await confirmed(100, ['c1']);
    await store.useRecoveryCode(ada.id, 'c1', NOW);
    const t = ticket();
    await store.issueTicket(t);
    await store.reserveTicketAttempt(t.ticketHash, NOW);
    await expect(store.consumeTicket(t.ticketHash, ada.id, { recoveryCodeHash: 'c1' }, NOW)).resolves.toBe('factor_refused');
    await expect(store.consumeTicket(t.ticketHash, ada.id, { recoveryCodeHash: 'nope' }, NOW)).resolves.toBe('factor_refused');
    await expect(store.consumeTicket(t.ticketHash, ada.id, { totpStep: 100 }, NOW)).resolves.toBe('factor_refused');
    await expect(store.consumeTicket(t.ticketHash, 'someone-else', { totpStep: 101 }, NOW)).resolves.toBe('ticket_lost');
    await expect(store.liveTicket(t.ticketHash, NOW)).resolves.toMatchObject({ userId: ada.id });
    await expect(store.consumeTicket(t.ticketHash, ada.id, { totpStep: 101 }, NOW)).resolves.toBe('consumed');
    await expect(store.totp(ada.id)).resolves.toMatchObject({ lastStep: 101 });
  });

  it('lets a ticket expire at expiresAt', async () => {
    await confirmed(100);
    const t = ticket();
    await store.issueTicket(t);
    await expect(store.liveTicket(t.ticketHash, t.expiresAt)).resolves.toBeUndefined();
    await expect(store.reserveTicketAttempt(t.ticketHash, t.expiresAt)).resolves.toBeUndefined();
    await expect(store.consumeTicket(t.ticketHash, ada.id, { totpStep: 101 }, t.expiresAt)).resolves.toBe('ticket_lost');
  });

  it('reserves at most maxAttempts attempts of a ticket, however many ask at once (review R4); the last reserved may still complete it', async () => {
    await confirmed(100);
    const t = ticket({ maxAttempts: 5 });
    await store.issueTicket(t);
    const left = await Promise.all(Array.from({ length: 20 }, () => store.reserveTicketAttempt(t.ticketHash, NOW)));
    expect(left.filter((n) => n !== undefined).sort()).toEqual([0, 1, 2, 3, 4]);
    await expect(store.liveTicket(t.ticketHash, NOW)).resolves.toBeUndefined();
    await expect(store.consumeTicket(t.ticketHash, ada.id, { totpStep: 101 }, NOW)).resolves.toBe('consumed');
  });

  it("voids the user's other tickets, live or not, when a new one is issued, even when issued concurrently", async () => {
    const old = ticket();
    await store.issueTicket(old);
    const fresh = ticket({ createdAt: NOW + MINUTE, expiresAt: NOW + 6 * MINUTE });
    await store.issueTicket(fresh);
    await expect(store.liveTicket(old.ticketHash, NOW + MINUTE)).resolves.toBeUndefined();
    await expect(store.liveTicket(fresh.ticketHash, NOW + MINUTE)).resolves.toMatchObject({ userId: ada.id });
    const racing = Array.from({ length: 6 }, () => ticket());
    await Promise.all(racing.map((r) => store.issueTicket(r)));
    const live = await Promise.all(racing.map((r) => store.liveTicket(r.ticketHash, NOW)));
    expect(live.filter((l) => l !== undefined)).toHaveLength(1);
  });

  it('lets an enrolment be confirmed only while it was started after startedAfter (unconfirmed enrolments expire)', async () => {
    await store.enrolTotp(ada.id, 'sealed-1', NOW);
    await expect(store.confirmTotp(ada.id, 'sealed-1', 100, ['c1'], NOW + 16 * MINUTE, NOW)).resolves.toBe(false);
    await expect(store.confirmTotp(ada.id, 'sealed-1', 100, ['c1'], NOW + 14 * MINUTE, NOW - MINUTE)).resolves.toBe(true);
  });

  it('confirms an enrolment with an enrol ticket in one step, and keeps each kind of ticket to its purpose', async () => {
    await store.enrolTotp(ada.id, 'sealed-1', NOW);
    const enrolment = { secretSealed: 'sealed-1', totpStep: 100, recoveryCodeHashes: ['c1', 'c2'], startedAfter: STARTED_AFTER };
    const verifyTicket = ticket();
    await store.issueTicket(verifyTicket);
    await store.reserveTicketAttempt(verifyTicket.ticketHash, NOW);
    await expect(store.consumeTicket(verifyTicket.ticketHash, ada.id, { enrolment }, NOW)).resolves.toBe('ticket_lost');
    const enrol = ticket({ purpose: 'enrol' });
    await store.issueTicket(enrol);
    await expect(store.liveTicket(enrol.ticketHash, NOW)).resolves.toMatchObject({ purpose: 'enrol' });
    await store.reserveTicketAttempt(enrol.ticketHash, NOW);
    await expect(store.consumeTicket(enrol.ticketHash, ada.id, { totpStep: 100 }, NOW)).resolves.toBe('ticket_lost');
    await expect(store.consumeTicket(enrol.ticketHash, ada.id, { enrolment: { ...enrolment, secretSealed: 'other' } }, NOW)).resolves.toBe('factor_refused');
    await expect(store.totp(ada.id)).resolves.toMatchObject({ confirmed: false });
    await expect(store.consumeTicket(enrol.ticketHash, ada.id, { enrolment }, NOW)).resolves.toBe('consumed');
    await expect(store.totp(ada.id)).resolves.toMatchObject({ confirmed: true, lastStep: 100 });
    await expect(store.recoveryCodesLeft(ada.id)).resolves.toBe(2);
  });
});
