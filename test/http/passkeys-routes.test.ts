import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import request from 'supertest';
import type { AuditEvent } from '../../src/auth/audit';
import { CSRF, login, profile, renewOk, stateProofFrom, type Credentials } from '../support/http';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

const ORIGIN = 'http://localhost:3000';
const UA = { 'User-Agent': 'passkey-test/1.0' };

/** The error body of a refused request, exactly. */
const refused = (error: string, message: string, action = 'none') => ({ error, message, action, timestamp: expect.any(Number) as number });
const REJECTED = refused('passkey_rejected', 'The passkey could not be verified.');
const STALE_CHALLENGE = refused('passkey_challenge_invalid', 'This passkey request is unknown, used or expired; start again.');
const UNKNOWN = refused('passkey_unknown', 'This passkey is not registered here; sign in another way.');
const NOT_FRESH = refused('insufficient_user_authentication', 'This needs a recent sign-in: sign in again, then retry.', 'reauth');
const WEAK = refused('insufficient_user_authentication', 'This needs a stronger sign-in: sign in again with the required methods, then retry.', 'reauth');

function claimsOf(bearerPass: string): { amr?: string[]; auth_time?: number; prn: string } {
  return JSON.parse(Buffer.from(bearerPass.split('.')[1] ?? '', 'base64url').toString('utf8')) as { amr?: string[]; auth_time?: number; prn: string };
}

/** Registration, passwordless sign-in, second factor and management over HTTP, on each accounts store. */
describe.each(['memory', 'pglite', 'postgres'] as const)('passkeys over HTTP (%s accounts)', (accounts) => {
  let t: TestApp;
  let device: SoftAuthenticator;

  beforeEach(async () => {
    t = await buildTestApp({ ...(accounts === 'memory' ? {} : { accounts }), env: { JTS_EMAIL_VERIFICATION: 'off' } });
    device = new SoftAuthenticator(ORIGIN);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string, body: object, headers: Record<string, string> = UA) => request(t.app).post(path).set(CSRF).set(headers).send(body);
  const withBearer = (bearerPass: string) => ({ ...UA, Authorization: `Bearer ${bearerPass}` });
  const refusals = () => t.audits.filter((a): a is Extract<AuditEvent, { event: 'passkey.refused' }> => a.event === 'passkey.refused').map(({ purpose, reason }) => `${purpose}:${reason}`);

  async function registrationOptions(session: Credentials): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const res = await post('/jts/passkeys/register/options', {}, withBearer(session.bearerPass));
    expect(res.status).toBe(200);
    return res.body as PublicKeyCredentialCreationOptionsJSON;
  }

  /** A user, signed in with the password, with one passkey on `device`. */
  async function withPasskey(): Promise<{ user: Awaited<ReturnType<typeof createUser>>; session: Credentials; passkeyId: string }> {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const res = await post('/jts/passkeys/register/verify', { credential: device.create(await registrationOptions(session)), name: 'Laptop' }, withBearer(session.bearerPass));
    expect(res.status).toBe(201);
    return { user, session, passkeyId: (res.body as { id: string }).id };
  }

  /**
   * A passwordless sign-in with `device` (amr swk, user, mfa): adding a passkey to an account that
   * has a factor needs a multi-factor sign-in (security review), a password session is not enough.
   */
  async function passkeySession(): Promise<Credentials> {
    const res = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    expect(res.status).toBe(200);
    return { bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(res) ?? '' };
  }

  async function loginOptions(headers = UA): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const res = await post('/jts/passkeys/login/options', {}, headers);
    expect(res.status).toBe(200);
    return res.body as PublicKeyCredentialRequestOptionsJSON;
  }

  async function ticketFor(user: { email: string; password: string }): Promise<{ mfa_ticket: string; methods: string[] }> {
    const res = await post('/jts/login', { email: user.email, password: user.password });
    expect(res.status).toBe(401);
    return res.body as { mfa_ticket: string; methods: string[] };
  }

  it('registers a passkey, lists it, and signs in with it alone: the login answer, amr swk user mfa', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const options = await registrationOptions(session);
    expect(options).toMatchObject({ rp: { id: 'localhost', name: 'JTS Auth' }, user: { name: user.email }, attestation: 'none', authenticatorSelection: { residentKey: 'required', userVerification: 'required' }, excludeCredentials: [] });
    const added = await post('/jts/passkeys/register/verify', { credential: device.create(options), name: 'Laptop' }, withBearer(session.bearerPass));
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ id: expect.any(String), name: 'Laptop', deviceType: 'multiDevice', backedUp: true, transports: ['internal'], createdAt: new Date(t.clock.now()).toISOString() });
    const listed = await request(t.app).get('/jts/passkeys').set(withBearer(session.bearerPass)).expect(200);
    expect(listed.body).toEqual({ passkeys: [added.body] });
    // A second registration excludes the first credential.
    expect((await registrationOptions(await passkeySession())).excludeCredentials).toEqual([{ id: device.credentials[0]?.id.toString('base64url'), type: 'public-key', transports: ['internal'] }]);

    t.clock.advance(1000);
    const options2 = await loginOptions();
    expect(options2).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
    expect(options2.allowCredentials).toBeUndefined();
    const signedIn = await post('/jts/passkeys/login/verify', { credential: device.get(options2) });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual({ bearerPass: expect.any(String), expiresIn: 300, tokenType: 'Bearer' });
    expect(stateProofFrom(signedIn)).toMatch(/^sp1\./);
    const claims = claimsOf((signedIn.body as { bearerPass: string }).bearerPass);
    expect(claims).toMatchObject({ prn: user.id, amr: ['swk', 'user', 'mfa'], auth_time: Math.floor(t.clock.now() / 1000) });
    expect((await profile(t.app, (signedIn.body as { bearerPass: string }).bearerPass)).status).toBe(200);
    // Renewal keeps the sign-in's amr.
    const renewed = await renewOk(t.app, stateProofFrom(signedIn) ?? '');
    expect(claimsOf(renewed.bearerPass).amr).toEqual(['swk', 'user', 'mfa']);
    expect(t.audits.map((a) => a.event)).toEqual(expect.arrayContaining(['passkey.added', 'login.succeeded']));
    const used = await request(t.app).get('/jts/passkeys').set(withBearer(session.bearerPass)).expect(200);
    expect(used.body).toEqual({ passkeys: [{ ...(added.body as object), lastUsedAt: new Date(t.clock.now()).toISOString() }] });
  });

  it('gives a native client (X-JTS-Device-ID) its StateProof in the body, as a login does', async () => {
    await withPasskey();
    const native = { ...UA, 'X-JTS-Device-ID': 'phone-1' };
    const res = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(native)) }, native);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ bearerPass: expect.any(String), expiresIn: 300, tokenType: 'Bearer', stateProof: expect.stringMatching(/^sp1\./) });
  });

  it('refuses a registration or sign-in signed on another origin (the challenge is spent)', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const options = await registrationOptions(session);
    const phished = await post('/jts/passkeys/register/verify', { credential: device.create(options, { origin: 'https://evil.example' }) }, withBearer(session.bearerPass));
    expect(phished.status).toBe(401);
    expect(phished.body).toEqual(REJECTED);
    // The honest answer to the same challenge comes too late: the challenge answered once.
    expect((await post('/jts/passkeys/register/verify', { credential: device.create(options) }, withBearer(session.bearerPass))).body).toEqual(STALE_CHALLENGE);
    await post('/jts/passkeys/register/verify', { credential: device.create(await registrationOptions(session)) }, withBearer(session.bearerPass)).expect(201);
    const signIn = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { origin: 'http://localhost:3001' }) });
    expect(signIn.status).toBe(401);
    expect(signIn.body).toEqual(REJECTED);
    expect(refusals()).toEqual(['register:origin', 'register:challenge', 'login:origin']);
  });

  it('refuses authenticator data made for another RP ID', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const reg = await post('/jts/passkeys/register/verify', { credential: device.create(await registrationOptions(session), { rpId: 'evil.example' }) }, withBearer(session.bearerPass));
    expect(reg.body).toEqual(REJECTED);
    await post('/jts/passkeys/register/verify', { credential: device.create(await registrationOptions(session)) }, withBearer(session.bearerPass)).expect(201);
    const signIn = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { rpId: 'localhost.evil.example' }) });
    expect(signIn.status).toBe(401);
    expect(signIn.body).toEqual(REJECTED);
    expect(refusals()).toEqual(['register:rp_id', 'login:rp_id']);
  });

  it('refuses a challenge never issued, one used already, one expired, and one of another purpose', async () => {
    await withPasskey();
    const made = await post('/jts/passkeys/login/verify', { credential: device.get({ challenge: 'bm90LWlzc3VlZC1ieS11cw', rpId: 'localhost' }) });
    expect(made.status).toBe(400);
    expect(made.body).toEqual(STALE_CHALLENGE);
    const options = await loginOptions();
    await post('/jts/passkeys/login/verify', { credential: device.get(options) }).expect(200);
    expect((await post('/jts/passkeys/login/verify', { credential: device.get(options) })).body).toEqual(STALE_CHALLENGE);
    // A registration challenge signed as a sign-in.
    const registration = await registrationOptions(await passkeySession());
    const crossed = await post('/jts/passkeys/login/verify', { credential: device.get({ challenge: registration.challenge, rpId: 'localhost' }) });
    expect(crossed.body).toEqual(STALE_CHALLENGE);
    const late = await loginOptions();
    t.clock.advance(300_000);
    expect((await post('/jts/passkeys/login/verify', { credential: device.get(late) })).body).toEqual(STALE_CHALLENGE);
    expect(refusals()).toEqual(['login:challenge', 'login:challenge', 'login:challenge', 'login:challenge']);
  });

  it('refuses a sign-in challenge answered from another client than the one that asked', async () => {
    await withPasskey();
    const options = await loginOptions({ 'User-Agent': 'browser-a' });
    const res = await post('/jts/passkeys/login/verify', { credential: device.get(options) }, { 'User-Agent': 'browser-b' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(STALE_CHALLENGE);
    expect(refusals()).toEqual(['login:challenge_binding']);
  });

  it('answers passkey_unknown for a credential no account has (removed here, still on the device)', async () => {
    const { passkeyId } = await withPasskey();
    const other = new SoftAuthenticator(ORIGIN);
    other.create(await registrationOptions(await passkeySession()));
    expect((await post('/jts/passkeys/login/verify', { credential: other.get(await loginOptions()) })).body).toEqual(UNKNOWN);
    // Removed by its owner (a passkey sign-in is fresh and multi-factor).
    const fresh = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    await request(t.app).delete(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer((fresh.body as { bearerPass: string }).bearerPass)).expect(200);
    const gone = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    expect(gone.status).toBe(401);
    expect(gone.body).toEqual(UNKNOWN);
    expect(refusals()).toEqual(['login:unknown_credential', 'login:unknown_credential']);
  });

  it('refuses a passwordless sign-in without user verification, with another account’s user handle, or for a disabled account', async () => {
    const { user } = await withPasskey();
    const logins = t.audits.filter((a) => a.event === 'login.succeeded').length;
    expect((await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { userVerified: false }) })).body).toEqual(REJECTED);
    expect((await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { userHandle: Buffer.from('someone-else') }) })).body).toEqual(REJECTED);
    await t.users.update(user.id, { disabled: true }, t.clock.now());
    expect((await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) })).body).toEqual(REJECTED);
    expect(refusals()).toEqual(['login:user_not_verified', 'login:user_handle', 'login:disabled']);
    expect(t.audits.filter((a) => a.event === 'login.succeeded')).toHaveLength(logins);
  });

  it('refuses a bad signature', async () => {
    await withPasskey();
    const credential = device.get(await loginOptions());
    const signature = Buffer.from(credential.response.signature, 'base64url');
    signature.writeUInt8((signature.at(-1) ?? 0) ^ 1, signature.length - 1);
    const res = await post('/jts/passkeys/login/verify', { credential: { ...credential, response: { ...credential.response, signature: signature.toString('base64url') } } });
    expect(res.body).toEqual(REJECTED);
    expect(refusals()).toEqual(['login:signature']);
  });

  it('refuses a cloned authenticator: a valid signature whose counter does not move on, audited', async () => {
    const { user, passkeyId } = await withPasskey();
    const original = device.credentials[0];
    if (!original) throw new Error('no credential');
    const clone = device.cloneOf(original);
    await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), original) }).expect(200);
    await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), original) }).expect(200);
    // The clone was copied at counter 0: its next counter, 1, is behind the stored 2.
    const cloned = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), clone) });
    expect(cloned.status).toBe(401);
    expect(cloned.body).toEqual(REJECTED);
    expect(t.audits).toContainEqual({ event: 'passkey.cloned', prn: user.id, passkey: passkeyId, stored: 2, presented: 1 });
    // Equal is not enough either.
    const equal = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), original, { signCount: 2 }) });
    expect(equal.body).toEqual(REJECTED);
    expect(refusals()).toEqual(['login:counter', 'login:counter']);
  });

  it('asks for the passkey after the password (methods lists webauthn) and completes with it: amr pwd swk user mfa', async () => {
    const { user } = await withPasskey();
    const { mfa_ticket, methods } = await ticketFor(user);
    expect(methods).toEqual(['webauthn']);
    const optionsRes = await post('/jts/mfa/webauthn/options', { mfa_ticket });
    expect(optionsRes.status).toBe(200);
    const options = optionsRes.body as PublicKeyCredentialRequestOptionsJSON;
    expect(options).toMatchObject({ rpId: 'localhost', userVerification: 'preferred', allowCredentials: [{ id: device.credentials[0]?.id.toString('base64url'), type: 'public-key', transports: ['internal'] }] });
    const done = await post('/jts/mfa/verify', { mfa_ticket, webauthn: device.get(options) });
    expect(done.status).toBe(200);
    expect(stateProofFrom(done)).toMatch(/^sp1\./);
    expect(claimsOf((done.body as { bearerPass: string }).bearerPass).amr).toEqual(['pwd', 'swk', 'user', 'mfa']);
    expect(t.audits).toContainEqual({ event: 'mfa.succeeded', prn: user.id, method: 'webauthn' });
    // Without user verification the passkey is still the second factor; amr says only what happened.
    const second = await ticketFor(user);
    const options2 = (await post('/jts/mfa/webauthn/options', { mfa_ticket: second.mfa_ticket })).body as PublicKeyCredentialRequestOptionsJSON;
    const plain = await post('/jts/mfa/verify', { mfa_ticket: second.mfa_ticket, webauthn: device.get(options2, undefined, { userVerified: false }) });
    expect(claimsOf((plain.body as { bearerPass: string }).bearerPass).amr).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('refuses another account’s passkey as second factor, and a challenge of another ticket; each spends a ticket attempt', async () => {
    const { user } = await withPasskey();
    const mallory = new SoftAuthenticator(ORIGIN);
    const intruder = await createUser(t);
    const theirs = await login(t.app, intruder.email, intruder.password, UA);
    const reg = await post('/jts/passkeys/register/verify', { credential: mallory.create((await post('/jts/passkeys/register/options', {}, withBearer(theirs.bearerPass))).body as PublicKeyCredentialCreationOptionsJSON) }, withBearer(theirs.bearerPass));
    expect(reg.status).toBe(201);
    const { mfa_ticket } = await ticketFor(user);
    const options = (await post('/jts/mfa/webauthn/options', { mfa_ticket })).body as PublicKeyCredentialRequestOptionsJSON;
    const wrongUser = await post('/jts/mfa/verify', { mfa_ticket, webauthn: mallory.get(options, mallory.credentials[0]) });
    expect(wrongUser.status).toBe(401);
    expect(wrongUser.body).toEqual(REJECTED);
    // A challenge issued for another ticket of the same account (a new sign-in voids the older ticket).
    const stale = (await post('/jts/mfa/webauthn/options', { mfa_ticket })).body as PublicKeyCredentialRequestOptionsJSON;
    const other = await ticketFor(user);
    const crossed = await post('/jts/mfa/verify', { mfa_ticket: other.mfa_ticket, webauthn: device.get(stale) });
    expect(crossed.status).toBe(400);
    expect(crossed.body).toEqual(STALE_CHALLENGE);
    // A passwordless challenge is not a second factor's.
    const fromLogin = await post('/jts/mfa/verify', { mfa_ticket: other.mfa_ticket, webauthn: device.get(await loginOptions()) });
    expect(fromLogin.body).toEqual(STALE_CHALLENGE);
    expect(refusals()).toEqual(['mfa:other_user', 'mfa:challenge_binding', 'mfa:challenge']);
    expect(t.audits.filter((a) => a.event === 'mfa.failed').map((a) => (a as { attemptsLeft?: number }).attemptsLeft)).toEqual([4, 4, 3]);
  });

  it('refuses WebAuthn options for a dead ticket and for an account without passkeys', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    expect((await post('/jts/mfa/webauthn/options', { mfa_ticket: 'x'.repeat(43) })).body).toEqual(refused('mfa_ticket_invalid', 'This sign-in can no longer be completed; sign in again.', 'reauth'));
    // A TOTP-only account: a ticket, but no passkey to ask for.
    const started = await post('/jts/mfa/totp', {}, withBearer(session.bearerPass));
    const { TOTP, Secret } = await import('otpauth');
    const code = TOTP.generate({ secret: Secret.fromBase32((started.body as { secret: string }).secret), timestamp: t.clock.now() });
    await post('/jts/mfa/totp/confirm', { code }, withBearer(session.bearerPass)).expect(200);
    const { mfa_ticket, methods } = await ticketFor(user);
    expect(methods).toEqual(['totp', 'recovery_code']);
    const res = await post('/jts/mfa/webauthn/options', { mfa_ticket });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(refused('not_found', 'No such passkey.'));
  });

  it('lists totp, recovery_code and webauthn when the account has both factors', async () => {
    const { user } = await withPasskey();
    const session = await passkeySession();
    const started = await post('/jts/mfa/totp', {}, withBearer(session.bearerPass));
    const { TOTP, Secret } = await import('otpauth');
    await post('/jts/mfa/totp/confirm', { code: TOTP.generate({ secret: Secret.fromBase32((started.body as { secret: string }).secret), timestamp: t.clock.now() }) }, withBearer(session.bearerPass)).expect(200);
    expect((await ticketFor(user)).methods).toEqual(['totp', 'recovery_code', 'webauthn']);
  });

  it('needs a fresh sign-in to add or remove a passkey, and a multi-factor one to remove it', async () => {
    const { user, session, passkeyId } = await withPasskey();
    // The password-only session that added it is fresh, but not multi-factor: it must not undo a factor.
    const weak = await request(t.app).delete(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer(session.bearerPass));
    expect(weak.status).toBe(401);
    expect(weak.body).toEqual(WEAK);
    t.clock.advance(301_000);
    const old = await renewOk(t.app, session.stateProof);
    const late = await post('/jts/passkeys/register/options', {}, withBearer(old.bearerPass));
    expect(late.status).toBe(401);
    expect(late.body).toEqual(NOT_FRESH);
    expect(late.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age="300"');
    expect((await post('/jts/passkeys/register/verify', { credential: new SoftAuthenticator(ORIGIN).create({ challenge: 'eA', rp: { id: 'localhost', name: 'x' }, user: { id: 'eA', name: 'x', displayName: 'x' }, pubKeyCredParams: [] }) }, withBearer(old.bearerPass))).body).toEqual(NOT_FRESH);
    const signedIn = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    expect(signedIn.status).toBe(200);
    t.clock.advance(301_000);
    const stale = await renewOk(t.app, stateProofFrom(signedIn) ?? '');
    expect((await request(t.app).delete(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer(stale.bearerPass))).body).toEqual(NOT_FRESH);
    const again = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    await request(t.app).delete(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer((again.body as { bearerPass: string }).bearerPass)).expect(200);
    expect(t.audits).toContainEqual({ event: 'passkey.removed', prn: user.id, passkey: passkeyId });
    // The password alone signs in again.
    await login(t.app, user.email, user.password, UA);
  });

  it('renames only the owner’s passkey; an unknown id is 404 for rename and remove', async () => {
    const { user, session, passkeyId } = await withPasskey();
    const renamed = await request(t.app).patch(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer(session.bearerPass)).send({ name: 'Work laptop' });
    expect(renamed.status).toBe(200);
    expect(((await request(t.app).get('/jts/passkeys').set(withBearer(session.bearerPass))).body as { passkeys: { name: string }[] }).passkeys[0]?.name).toBe('Work laptop');
    expect(t.audits).toContainEqual({ event: 'passkey.renamed', prn: user.id, passkey: passkeyId });
    const other = await createUser(t);
    const theirs = await login(t.app, other.email, other.password, UA);
    const foreign = await request(t.app).patch(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer(theirs.bearerPass)).send({ name: 'Mine now' });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(refused('not_found', 'No such passkey.'));
    const signedIn = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) });
    const gone = await request(t.app).delete('/jts/passkeys/nope').set(CSRF).set(withBearer((signedIn.body as { bearerPass: string }).bearerPass));
    expect(gone.status).toBe(404);
    expect((await request(t.app).patch(`/jts/passkeys/${passkeyId}`).set(CSRF).set(withBearer(session.bearerPass)).send({ name: '' })).body).toEqual(refused('invalid_request', '`name` must not be empty'));
  });

  it('refuses the same credential registered twice, and needs the CSRF header', async () => {
    const user = await createUser(t);
    const session = await login(t.app, user.email, user.password, UA);
    const credential = device.create(await registrationOptions(session));
    await post('/jts/passkeys/register/verify', { credential }, withBearer(session.bearerPass)).expect(201);
    // The same attestation for a new challenge: the same credential id.
    const strong = await passkeySession();
    const options = await registrationOptions(strong);
    const again = await post('/jts/passkeys/register/verify', { credential: { ...credential, response: { ...credential.response, clientDataJSON: Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: ORIGIN })).toString('base64url') } } }, withBearer(strong.bearerPass));
    expect(again.status).toBe(409);
    expect(again.body).toEqual(refused('passkey_already_registered', 'This passkey is already registered.'));
    expect((await request(t.app).post('/jts/passkeys/login/options').send({})).status).toBe(403);
  });

  // Bugs found in peers' trackers, each tried here.
  it('lets one of concurrent answers to one challenge through: one session, one passkey (better-auth #8376/#9622, supabase/auth #2411)', async () => {
    await withPasskey();
    const options = await loginOptions();
    const assertion = device.get(options);
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('/jts/passkeys/login/verify', { credential: assertion })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
    const session = await passkeySession();
    const registration = new SoftAuthenticator(ORIGIN).create(await registrationOptions(session));
    const added = await Promise.all(Array.from({ length: 4 }, () => post('/jts/passkeys/register/verify', { credential: registration }, withBearer(session.bearerPass))));
    expect(added.map((r) => r.status).sort()).toEqual([201, 400, 400, 400]);
    expect(((await request(t.app).get('/jts/passkeys').set(withBearer(session.bearerPass))).body as { passkeys: unknown[] }).passkeys).toHaveLength(2);
  });

  it('signs in with an assertion that omits the user handle (nullable in WebAuthn; Genosyn #42)', async () => {
    await withPasskey();
    const res = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { userHandle: null }) });
    expect(res.status).toBe(200);
  });

  it('refuses a counter of 0 once a counter was seen: 0 would erase the baseline (usememos/memos #5872)', async () => {
    await withPasskey();
    await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) }).expect(200);
    const zero = await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions(), undefined, { signCount: 0 }) });
    expect(zero.body).toEqual(REJECTED);
    // The baseline stands: the genuine next counter still works.
    await post('/jts/passkeys/login/verify', { credential: device.get(await loginOptions()) }).expect(200);
  });

  it('answers malformed WebAuthn bodies with invalid_request naming the member', async () => {
    expect((await post('/jts/passkeys/login/verify', {})).body).toEqual(refused('invalid_request', '`credential` is required'));
    expect((await post('/jts/passkeys/login/verify', { credential: { id: 'a+b', rawId: 'a', type: 'public-key', response: { clientDataJSON: '', authenticatorData: '', signature: '' } } })).body).toEqual(refused('invalid_request', '`credential.id` must be base64url'));
    const garbage = await post('/jts/passkeys/login/verify', { credential: { id: 'AA', rawId: 'AA', type: 'public-key', response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' } } });
    expect(garbage.status).toBe(401);
    expect(garbage.body).toEqual(REJECTED);
    expect(refusals()).toEqual(['login:malformed']);
  });
});
