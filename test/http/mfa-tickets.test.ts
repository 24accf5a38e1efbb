import { Secret, TOTP } from 'otpauth';
import request from 'supertest';
import { MFA_TICKET_MAX_ATTEMPTS } from '../../src/auth/second-factor';
import { CSRF, login, renewOk } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const STEP = 30_000;
const MINUTE = 60_000;
const UA = { 'User-Agent': 'mfa-tickets-test/1.0' };
const codeAt = (secret: string, at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });

/** Ticket hardening (review R4 and after), over HTTP on the SQL stores the factors live in. */
describe.each(['pglite', 'postgres'] as const)('MFA tickets and enrolments (%s accounts, real Redis)', (accounts) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await buildTestApp({ store: 'redis', accounts });
    t.clock.set(Math.floor(Date.now() / STEP) * STEP + STEP / 2);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);
  const bearer = (bearerPass: string) => ({ ...UA, Authorization: `Bearer ${bearerPass}` });

  async function enrolled() {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, bearer(session.bearerPass)).expect(201)).body as { secret: string };
    const { recoveryCodes } = (await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(session.bearerPass)).expect(200)).body as { recoveryCodes: string[] };
    t.clock.advance(STEP);
    return { user, secret, recoveryCodes, session };
  }
  async function ticketFor(user: { email: string; password: string }): Promise<string> {
    const res = await post('/jts/login', { email: user.email, password: user.password });
    expect(res.status).toBe(401);
    return (res.body as { mfa_ticket: string }).mfa_ticket;
  }
  const wrongCodeChecks = (prn: string) => t.audits.filter((a) => a.event === 'mfa.failed' && a.reason === 'wrong_code' && a.prn === prn).length;

  it(`checks at most ${MFA_TICKET_MAX_ATTEMPTS} of 20 concurrent wrong codes on one ticket; the ticket is dead after (review R4)`, async () => {
    const { user, secret } = await enrolled();
    const ticket = await ticketFor(user);
    const right = codeAt(secret, t.clock.now());
    const wrong = right === '000000' ? '111111' : '000000';
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/jts/mfa/verify', { mfa_ticket: ticket, code: wrong })));
    const errors = answers.map((a) => (a.body as { error: string }).error);
    expect(errors.filter((e) => e === 'mfa_code_invalid').length).toBeLessThanOrEqual(MFA_TICKET_MAX_ATTEMPTS);
    expect(errors.filter((e) => e !== 'mfa_code_invalid').every((e) => e === 'mfa_ticket_invalid')).toBe(true);
    expect(wrongCodeChecks(user.id)).toBeLessThanOrEqual(MFA_TICKET_MAX_ATTEMPTS);
    const late = await post('/jts/mfa/verify', { mfa_ticket: ticket, code: right });
    expect(late.status).toBe(401);
    expect((late.body as { error: string }).error).toBe('mfa_ticket_invalid');
  });

  it('of five different right recovery codes racing on one ticket, one signs in and only its code is used', async () => {
    const { user, recoveryCodes } = await enrolled();
    const ticket = await ticketFor(user);
    const racing = recoveryCodes.slice(0, MFA_TICKET_MAX_ATTEMPTS);
    // Barriers in the account reads each verification makes before its code (the rate limits' look-up
    // of the ticket's account, then the verification's own): all five requests have read the live
    // ticket before any goes on, the worst interleaving, made certain. Later reads pass.
    const get = t.users.get.bind(t.users);
    let calls = 0;
    let waiting: (() => void)[] = [];
    t.users.get = async (id) => {
      const found = await get(id);
      if (++calls > 2 * racing.length) return found;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length === racing.length) for (const release of waiting.splice(0)) release();
      });
      return found;
    };
    const answers = await Promise.all(racing.map((recoveryCode) => post('/jts/mfa/verify', { mfa_ticket: ticket, recoveryCode })));
    t.users.get = get;
    waiting = [];
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401]);
    expect(answers.filter((a) => a.status === 401).every((a) => (a.body as { error: string }).error === 'mfa_ticket_invalid')).toBe(true);
    const winner = answers.findIndex((a) => a.status === 200);
    const { bearerPass } = answers[winner]?.body as { bearerPass: string };
    const view = await request(t.app).get('/jts/mfa').set(bearer(bearerPass)).expect(200);
    expect((view.body as { recoveryCodesLeft: number }).recoveryCodesLeft).toBe(9);
    // A losing code still works, once.
    const loser = racing.find((_, i) => i !== winner);
    await post('/jts/mfa/verify', { mfa_ticket: await ticketFor(user), recoveryCode: loser }).expect(200);
  });

  it('a new ticket for the account voids the older one', async () => {
    const { user, secret } = await enrolled();
    const first = await ticketFor(user);
    const second = await ticketFor(user);
    const voided = await post('/jts/mfa/verify', { mfa_ticket: first, code: codeAt(secret, t.clock.now()) });
    expect(voided.status).toBe(401);
    expect((voided.body as { error: string }).error).toBe('mfa_ticket_invalid');
    await post('/jts/mfa/verify', { mfa_ticket: second, code: codeAt(secret, t.clock.now()) }).expect(200);
  });

  it('an enrolment left unconfirmed for more than 15 minutes expires: its code no longer confirms it (404 mfa_not_enrolled)', async () => {
    const user = await createUser(t, { emailVerified: true });
    const session = await login(t.app, user.email, user.password, UA);
    const { secret } = (await post('/jts/mfa/totp', {}, bearer(session.bearerPass)).expect(201)).body as { secret: string };
    t.clock.advance(15 * MINUTE + STEP);
    const { bearerPass } = await renewOk(t.app, session.stateProof);
    const late = await post('/jts/mfa/totp/confirm', { code: codeAt(secret, t.clock.now()) }, bearer(bearerPass));
    expect(late.status).toBe(404);
    expect((late.body as { error: string }).error).toBe('mfa_not_enrolled');
  });
});
