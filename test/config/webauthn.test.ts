import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/startup-error';

const base = { NODE_ENV: 'test' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('JTS_WEBAUTHN_* settings', () => {
  it('derives the RP ID, origins and name from the issuer and the product name', () => {
    expect(loadConfig({ ...base, JTS_ISSUER: 'https://auth.example.com', MAIL_PRODUCT_NAME: 'Acme' }).webauthn).toEqual({ rpId: 'auth.example.com', rpName: 'Acme', origins: ['https://auth.example.com'] });
    expect(loadConfig({ ...base, JTS_WEBAUTHN_RP_ID: 'example.com', JTS_WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com', JTS_WEBAUTHN_RP_NAME: 'Example' }).webauthn).toEqual({
      rpId: 'example.com',
      rpName: 'Example',
      origins: ['https://example.com', 'https://app.example.com'],
    });
  });

  it('refuses values browsers would refuse, naming the variable, the value and the fix', () => {
    expect(problemsOf({ JTS_WEBAUTHN_RP_ID: '10.0.0.5', JTS_WEBAUTHN_ORIGINS: 'https://10.0.0.5' })).toEqual([
      'JTS_WEBAUTHN_RP_ID="10.0.0.5": expected a lower-case domain such as example.com (browsers refuse IP addresses; set JTS_ISSUER or JTS_WEBAUTHN_RP_ID to a host name, e.g. localhost)',
    ]);
    expect(problemsOf({ JTS_WEBAUTHN_RP_ID: 'example.com', JTS_WEBAUTHN_ORIGINS: 'https://evil.com,http://example.com,https://example.com/login' })).toEqual([
      'JTS_WEBAUTHN_ORIGINS="https://evil.com": its host is neither the RP ID "example.com" nor one of its subdomains',
      'JTS_WEBAUTHN_ORIGINS="http://example.com": browsers allow passkeys only on https:// origins (http:// only on localhost)',
      'JTS_WEBAUTHN_ORIGINS="https://example.com/login": expected an exact origin such as https://app.example.com (no path or trailing slash)',
    ]);
    // A registrable suffix is fine; a mere string suffix is not (notexample.com is another site).
    expect(problemsOf({ JTS_WEBAUTHN_RP_ID: 'example.com', JTS_WEBAUTHN_ORIGINS: 'https://notexample.com' })).toEqual([
      'JTS_WEBAUTHN_ORIGINS="https://notexample.com": its host is neither the RP ID "example.com" nor one of its subdomains',
    ]);
    expect(problemsOf({ JTS_WEBAUTHN_ORIGINS: 'http://localhost:5173', JTS_WEBAUTHN_RP_ID: 'localhost' })).toEqual([]);
  });

  it('starts with defaults passkeys cannot use (an issuer at an IP address) and says why', () => {
    const config = loadConfig({ ...base, JTS_ISSUER: 'http://127.0.0.1:3000' });
    expect(config.webauthn).toEqual({
      rpId: '127.0.0.1',
      rpName: 'JTS Auth',
      origins: ['http://127.0.0.1:3000'],
      unusable: [
        'JTS_WEBAUTHN_RP_ID (unset: the issuer\'s host "127.0.0.1"): expected a lower-case domain such as example.com (browsers refuse IP addresses; set JTS_ISSUER or JTS_WEBAUTHN_RP_ID to a host name, e.g. localhost)',
        'JTS_WEBAUTHN_ORIGINS (unset: the issuer\'s origin "http://127.0.0.1:3000"): browsers allow passkeys only on https:// origins (http:// only on localhost)',
      ],
    });
  });
});
