import { CredentialMinter } from '../../src/auth/credentials';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier } from '../../src/jts/bearer-pass/verify';
import { ManualClock, seconds } from '../../src/jts/clock';
import { StateProofCodec } from '../../src/jts/state-proof';
import { randomBytes } from 'node:crypto';
import { testKeyRing } from '../support/test-app';

const WEEK = 604_800;
const CREATED = Date.UTC(2026, 0, 1, 12);

async function minter(mfaRequiredFor?: readonly string[]) {
  const clock = new ManualClock(CREATED);
  const keyRing = await testKeyRing();
  const stateProofs = new StateProofCodec(randomBytes(32));
  const credentials = new CredentialMinter({
    mint: createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: 300 }),
    stateProofs,
    clock,
    stateProofLifetimeSeconds: WEEK,
    sessionPolicy: { kind: 'max', max: 3 },
    ...(mfaRequiredFor === undefined ? {} : { mfaRequiredFor }),
  });
  const verify = createBearerPassVerifier({ keyFor: (kid) => keyRing.get(kid), clock });
  return { clock, stateProofs, credentials, verify };
}

describe('CredentialMinter', () => {
  it('mints a BearerPass from the session’s facts: permissions, sign-in time and policy', async () => {
    const { clock, credentials, verify } = await minter();
    clock.advance(3_600_000);
    const minted = credentials.bearerPass('p1', 'a1', { createdAt: CREATED, deviceHash: undefined, permissions: ['read:profile', 'admin:access'], credentialEpoch: 0, amr: ['otp'], emailVerified: true });
    const result = verify(minted.token);
    expect(result.ok).toBe(true);
    expect(result.ok && result.payload).toMatchObject({ prn: 'p1', aid: 'a1', perm: ['read:profile', 'admin:access'], atm: 'pwd', ath: seconds(CREATED), spl: 'max:3', iat: seconds(clock.now()) });
    // RFC 8176 / OIDC Core §2: how and when the user signed in (an hour before this mint), not the mint.
    expect(result.ok && result.payload).toMatchObject({ amr: ['otp'], auth_time: seconds(CREATED), email_verified: true });
    expect(result.ok && result.payload).not.toHaveProperty('dfp');
    expect(minted.expiresIn).toBe(300);
  });

  it('puts the device hash in `dfp` for a device-bound session', async () => {
    const { credentials, verify } = await minter();
    const minted = credentials.bearerPass('p1', 'a1', { createdAt: CREATED, deviceHash: 'hash-of-device', permissions: [], credentialEpoch: 0, amr: ['pwd'], emailVerified: false });
    const result = verify(minted.token);
    expect(result.ok && result.payload.dfp).toBe('hash-of-device');
  });

  it('leaves amr out, rather than guess, for a session stored before amr was; auth_time and email_verified stay', async () => {
    const { credentials, verify } = await minter();
    const minted = credentials.bearerPass('p1', 'a1', { createdAt: CREATED, deviceHash: undefined, permissions: [], credentialEpoch: 0, amr: undefined, emailVerified: false });
    const result = verify(minted.token);
    expect(result.ok && result.payload).not.toHaveProperty('amr');
    expect(result.ok && result.payload).toMatchObject({ auth_time: seconds(CREATED), email_verified: false });
  });

  it('leaves JTS_MFA_REQUIRED_FOR permissions out unless amr holds mfa (a session without amr counts as without)', async () => {
    const { credentials, verify } = await minter(['admin:access']);
    const permOf = (amr: string[] | undefined) => {
      const result = verify(credentials.bearerPass('p1', 'a1', { createdAt: CREATED, deviceHash: undefined, permissions: ['read:profile', 'admin:access'], credentialEpoch: 0, amr, emailVerified: true }).token);
      return result.ok ? result.payload.perm : undefined;
    };
    expect(permOf(['pwd'])).toEqual(['read:profile']);
    expect(permOf(['otp'])).toEqual(['read:profile']);
    expect(permOf(undefined)).toEqual(['read:profile']);
    expect(permOf(['pwd', 'otp', 'mfa'])).toEqual(['read:profile', 'admin:access']);
    expect(permOf(['otp', 'mfa'])).toEqual(['read:profile', 'admin:access']);
  });

  it.each([
    ['no JTS_MFA_REQUIRED_FOR', [], ['pwd'], ['read:profile', 'admin:access']],
    ['none of the gated permissions held', ['admin:users'], ['pwd'], ['read:profile', 'admin:access']],
    ['mfa in amr', ['admin:access'], ['pwd', 'otp', 'mfa'], ['read:profile', 'admin:access']],
  ])('hands the session’s permission array to the signer as it is (no copy on the renew path) with %s', async (_name, gated, amr, permissions) => {
    const keyRing = await testKeyRing();
    const clock = new ManualClock(CREATED);
    const sign = createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: 300 });
    const seen: unknown[] = [];
    const credentials = new CredentialMinter({
      mint: (subject) => {
        seen.push(subject.perm);
        return sign(subject);
      },
      stateProofs: new StateProofCodec(randomBytes(32)),
      clock,
      stateProofLifetimeSeconds: WEEK,
      sessionPolicy: { kind: 'max', max: 3 },
      mfaRequiredFor: gated,
    });
    credentials.bearerPass('p1', 'a1', { createdAt: CREATED, deviceHash: undefined, permissions, credentialEpoch: 0, amr, emailVerified: true });
    expect(seen[0]).toBe(permissions);
  });

  it('issues the StateProof of the given generation with the BearerPass it is handed', async () => {
    const { credentials, stateProofs } = await minter();
    const issued = credentials.issue({ prn: 'p1', aid: 'a1' }, 7, 'the-bearer-pass', 123, CREATED);
    expect(issued).toMatchObject({ bearerPass: 'the-bearer-pass', expiresIn: 123, prn: 'p1', aid: 'a1' });
    expect(stateProofs.parse(issued.stateProof)).toEqual({ prn: 'p1', aid: 'a1', generation: 7 });
  });

  it('sizes the cookie to the rest of the session’s life, counted from its creation, never below 0', async () => {
    const { clock, credentials } = await minter();
    const maxAge = () => credentials.issue({ prn: 'p1', aid: 'a1' }, 1, 't', 300, CREATED).stateProofMaxAge;
    expect(maxAge()).toBe(WEEK);
    clock.advance(3_600_000);
    expect(maxAge()).toBe(WEEK - 3_600);
    clock.set(CREATED + WEEK * 1000 + 5_000);
    expect(maxAge()).toBe(0);
  });
});
