import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { amrOf, stepUpAmr } from '../../src/auth/amr';
import { clientBinding, deriveFactorKey, hashRecoveryCode, newRecoveryCode, seal, unseal } from '../../src/auth/factor-secrets';
import { matchTotp, newTotpSecret } from '../../src/auth/totp';

const STEP = 30_000;

describe('second-factor secrets', () => {
  const key = deriveFactorKey(randomBytes(32));

  it('seals a TOTP secret so that only the same key and user open it, and never the same way twice', () => {
    const sealed = seal(key, 'user-1', 'JBSWY3DPEHPK3PXP');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(seal(key, 'user-1', 'JBSWY3DPEHPK3PXP')).not.toBe(sealed);
    expect(unseal(key, 'user-1', sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(unseal(key, 'user-2', sealed)).toBeUndefined();
    expect(unseal(deriveFactorKey(randomBytes(32)), 'user-1', sealed)).toBeUndefined();
    const [v, iv, ct, tag] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(unseal(key, 'user-1', [v, iv, flipped.toString('base64url'), tag].join('.'))).toBeUndefined();
    expect(unseal(key, 'user-1', 'garbage')).toBeUndefined();
  });

  it('derives a key of its own from the StateProof secret (the same secret gives the same key)', () => {
    const secret = randomBytes(32);
    expect(deriveFactorKey(secret).equals(deriveFactorKey(Buffer.from(secret)))).toBe(true);
    expect(deriveFactorKey(secret)).toHaveLength(32);
  });

  it('makes recovery codes of 80 bits in four groups, hashed whatever the case and separators', () => {
    const code = newRecoveryCode();
    expect(code).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect(hashRecoveryCode(code.toLowerCase().replace(/-/g, ' '))).toBe(hashRecoveryCode(code));
    expect(hashRecoveryCode(code)).not.toBe(hashRecoveryCode(newRecoveryCode()));
  });

  it('binds a ticket to the device id and User-Agent', () => {
    expect(clientBinding({ userAgent: 'a' })).toBe(clientBinding({ userAgent: 'a' }));
    expect(clientBinding({ userAgent: 'a' })).not.toBe(clientBinding({ userAgent: 'b' }));
    expect(clientBinding({ userAgent: 'a', deviceId: 'd' })).not.toBe(clientBinding({ userAgent: 'a' }));
  });
});

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 6238 appendix B vector for SHA-1 (8 digits there; the same HOTP truncated to 6 here)', () => {
    // RFC 6238 Appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits: 287082.
    const secret = Secret.fromLatin1('12345678901234567890').base32;
    expect(matchTotp(secret, '287082', 59_000)).toBe(1);
  });

  it('accepts the codes of the step before and after, not two steps away, and names the step', () => {
    const secret = newTotpSecret();
    const now = 1_800_000_000_000 + STEP / 2;
    const step = Math.floor(now / STEP);
    const codeAt = (at: number) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at });
    expect(matchTotp(secret, codeAt(now), now)).toBe(step);
    expect(matchTotp(secret, codeAt(now - STEP), now)).toBe(step - 1);
    expect(matchTotp(secret, codeAt(now + STEP), now)).toBe(step + 1);
    const far = [codeAt(now - 2 * STEP), codeAt(now + 2 * STEP)].filter((code) => ![codeAt(now), codeAt(now - STEP), codeAt(now + STEP)].includes(code));
    for (const code of far) expect(matchTotp(secret, code, now)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now)).toBeUndefined();
    expect(matchTotp(secret, '1234567', now)).toBeUndefined();
  });
});

describe('amr (RFC 8176)', () => {
  it.each([
    ['pwd', undefined, ['pwd']],
    ['pwd', 'totp', ['pwd', 'otp', 'mfa']],
    ['pwd', 'recovery_code', ['pwd', 'otp', 'mfa']],
    ['email_code', undefined, ['otp']],
    ['email_code', 'totp', ['otp', 'mfa']],
  ] as const)('%s + %s → %j', (first, second, amr) => {
    expect(amrOf(first, second)).toEqual(amr);
  });

  it.each([
    [['pwd'], 'pwd', ['pwd']],
    // A password never carries an earlier mfa forward.
    [['pwd', 'otp', 'mfa'], 'pwd', ['pwd']],
    [['pwd'], 'totp', ['pwd', 'otp', 'mfa']],
    [['pwd', 'otp', 'mfa'], 'recovery_code', ['pwd', 'otp', 'mfa']],
    [['otp'], 'totp', ['otp', 'mfa']],
    [undefined, 'totp', ['otp']],
    [['hwk'], 'recovery_code', ['otp']],
  ] as const)('a step-up on a session signed in with %j by %s → %j', (signIn, proved, amr) => {
    expect(stepUpAmr(signIn, proved)).toEqual(amr);
  });
});
