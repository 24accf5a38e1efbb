import { confirmCredentialsStillValid, createAccount, SignIn, verifyPassword } from '../../src/auth/sign-in';
import { openSession } from '../../src/auth/open-session';
import { authFixture, type AuthFixture } from './support/fixture';

describe('sign-in', () => {
  let f: AuthFixture;
  afterEach(async () => {
    jest.restoreAllMocks();
    await f.close();
  });

  describe('verifyPassword', () => {
    it('returns the user for the right password, whatever the email’s case and spacing', async () => {
      f = await authFixture();
      const { user, password } = await f.addUser({ email: 'ada@example.com' });
      await expect(verifyPassword(f.context, '  ADA@example.com ', password)).resolves.toEqual(user);
      expect(f.audits).toEqual([]);
    });

    it.each([
      ['an unknown email', 'unknown_email'],
      ['a wrong password', 'wrong_password'],
      ['a disabled account', 'disabled'],
    ] as const)('refuses %s with invalid_credentials, telling only the audit why', async (_name, reason) => {
      f = await authFixture();
      const { user, password } = await f.addUser();
      if (reason === 'disabled') await f.users.update(user.id, { disabled: true }, f.clock.now());
      const email = reason === 'unknown_email' ? 'nobody@example.com' : user.email;
      const attempt = reason === 'wrong_password' ? 'not the password' : password;
      await expect(verifyPassword(f.context, email, attempt)).rejects.toMatchObject({ code: 'invalid_credentials', message: 'Email or password is incorrect.' });
      // The account's id when there is an account, so operators see whose account is attacked.
      expect(f.audits).toEqual([{ event: 'login.failed', reason, ...(reason === 'unknown_email' ? {} : { prn: user.id }) }]);
    });

    it('runs one bcrypt comparison for an unknown email too (invariant 9)', async () => {
      f = await authFixture();
      const compare = jest.spyOn(f.context.hasher, 'verify');
      await expect(verifyPassword(f.context, 'nobody@example.com', 'whatever')).rejects.toMatchObject({ code: 'invalid_credentials' });
      expect(compare).toHaveBeenCalledTimes(1);
      expect(compare).toHaveBeenCalledWith('whatever', undefined);
    });

    it('refuses a password bcrypt could check only truncated before looking anyone up', async () => {
      f = await authFixture();
      const { user } = await f.addUser({ password: 'x'.repeat(72) });
      const lookup = jest.spyOn(f.users, 'findByEmail');
      await expect(verifyPassword(f.context, user.email, `${'x'.repeat(72)}suffix`)).rejects.toMatchObject({ code: 'password_rejected', key: 'invalid_request' });
      expect(lookup).not.toHaveBeenCalled();
    });
  });

  describe('createAccount', () => {
    const input = { email: '  New.Person@Example.com ', password: 'a long enough pass', name: '  New Person ' };

    it('stores a normalised account with the new-account permissions', async () => {
      f = await authFixture();
      const user = await createAccount(f.context, input);
      expect(user).toMatchObject({ email: 'new.person@example.com', name: 'New Person', permissions: ['read:profile'], disabled: false, createdAt: f.clock.now() });
      await expect(f.users.findByEmail('new.person@example.com')).resolves.toEqual(user);
      await expect(verifyPassword(f.context, user.email, input.password)).resolves.toMatchObject({ id: user.id });
    });

    it('refuses when registration is closed, before judging the password', async () => {
      f = await authFixture({ settings: { allowRegistration: false } });
      await expect(createAccount(f.context, { ...input, password: 'short' })).rejects.toMatchObject({ code: 'registration_closed' });
      await expect(f.users.list()).resolves.toEqual([]);
    });

    it('refuses an unacceptable password with password_rejected (invalid_request) saying why', async () => {
      f = await authFixture();
      await expect(createAccount(f.context, { ...input, password: 'short12' })).rejects.toMatchObject({ code: 'password_rejected', key: 'invalid_request', message: 'The password needs at least 8 characters.' });
    });

    it('refuses a taken email, whatever its case, with email_taken', async () => {
      f = await authFixture();
      await f.addUser({ email: 'new.person@example.com' });
      await expect(createAccount(f.context, input)).rejects.toMatchObject({ code: 'email_taken' });
      await expect(f.users.list()).resolves.toHaveLength(1);
    });
  });

  describe('confirmCredentialsStillValid', () => {
    it('keeps the new session while the user is unchanged', async () => {
      f = await authFixture();
      const { user } = await f.addUser();
      const issued = await openSession(f.context, user, {}, 'login.succeeded', ['pwd']);
      await expect(confirmCredentialsStillValid(f.context, user, issued)).resolves.toBeUndefined();
      await expect(f.sessions.list(user.id, f.clock.now())).resolves.toHaveLength(1);
    });

    it.each([
      ['the password changed', { passwordHash: 'another hash' }],
      ['the account was disabled', { disabled: true }],
    ])('revokes the new session and refuses the login when %s meanwhile', async (_name, patch) => {
      f = await authFixture();
      const { user } = await f.addUser();
      const issued = await openSession(f.context, user, {}, 'login.succeeded', ['pwd']);
      await f.users.update(user.id, patch, f.clock.now());
      await expect(confirmCredentialsStillValid(f.context, user, issued)).rejects.toMatchObject({ code: 'invalid_credentials' });
      await expect(f.sessions.list(user.id, f.clock.now())).resolves.toEqual([]);
      expect(f.context.renewFacts.get(user.id, issued.aid)).toBeUndefined();
    });
  });

  describe('SignIn', () => {
    it('logs in: a session for the user, audited as login.succeeded', async () => {
      f = await authFixture();
      const { user, password } = await f.addUser();
      const issued = await new SignIn(f.context).login(user.email, password, {});
      expect(f.claimsOf(issued.bearerPass)).toMatchObject({ prn: user.id, aid: issued.aid });
      expect(f.audits).toEqual([{ event: 'login.succeeded', prn: user.id, aid: issued.aid, evicted: [] }]);
    });

    it('opens no session for a wrong password', async () => {
      f = await authFixture();
      const { user } = await f.addUser();
      await expect(new SignIn(f.context).login(user.email, 'not the password', {})).rejects.toMatchObject({ code: 'invalid_credentials' });
      await expect(f.sessions.list(user.id, f.clock.now())).resolves.toEqual([]);
    });

    it('leaves no session when the password changes while the login is inside bcrypt', async () => {
      f = await authFixture();
      const { user, password } = await f.addUser();
      const realVerify = f.context.hasher.verify.bind(f.context.hasher);
      jest.spyOn(f.context.hasher, 'verify').mockImplementationOnce(async (attempt, hash) => {
        const ok = await realVerify(attempt, hash);
        await f.users.update(user.id, { passwordHash: 'changed meanwhile' }, f.clock.now());
        return ok;
      });
      await expect(new SignIn(f.context).login(user.email, password, {})).rejects.toMatchObject({ code: 'invalid_credentials' });
      await expect(f.sessions.list(user.id, f.clock.now())).resolves.toEqual([]);
    });

    it('registers: the account and its first session, audited as register', async () => {
      f = await authFixture();
      const issued = await new SignIn(f.context).register({ email: 'reg@example.com', password: 'a long enough pass', name: 'Reg' }, { deviceId: 'phone' });
      const user = await f.users.findByEmail('reg@example.com');
      expect(issued.prn).toBe(user?.id);
      expect(f.claimsOf(issued.bearerPass).dfp).toBeDefined();
      expect(f.audits).toEqual([{ event: 'register', prn: issued.prn, aid: issued.aid }]);
    });
  });
});
