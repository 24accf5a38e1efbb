import { amrOfPasskey } from '../../src/auth/amr';

describe('amr of a passkey sign-in (RFC 8176)', () => {
  it('is swk, user, mfa alone with user verification; swk alone without it is one factor', () => {
    expect(amrOfPasskey(true)).toEqual(['swk', 'user', 'mfa']);
    expect(amrOfPasskey(false)).toEqual(['swk']);
  });

  it('follows the first factor, and is always mfa as a second factor', () => {
    expect(amrOfPasskey(false, 'pwd')).toEqual(['pwd', 'swk', 'mfa']);
    expect(amrOfPasskey(true, 'pwd')).toEqual(['pwd', 'swk', 'user', 'mfa']);
    expect(amrOfPasskey(false, 'email_code')).toEqual(['otp', 'swk', 'mfa']);
  });
});
