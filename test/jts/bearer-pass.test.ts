import { constants, createHmac, generateKeyPairSync, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { JTS_ALGORITHMS, type JtsAlgorithm } from '../../src/jts/algorithms';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier, type BearerPassVerifierOptions, type VerifyResult } from '../../src/jts/bearer-pass/verify';
import { ManualClock, seconds } from '../../src/jts/clock';
import type { JtsCode } from '../../src/jts/errors';
import { KeyRing } from '../../src/jts/key-ring';

const ISS = 'https://auth.example.test';
const AUD = 'https://api.example.test';
const SKEW = 5;
const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = seconds(START);

const STATUS: Record<JtsCode, number> = {
  'JTS-400-01': 400,
  'JTS-400-02': 400,
  'JTS-401-01': 401,
  'JTS-401-02': 401,
  'JTS-401-03': 401,
  'JTS-401-04': 401,
  'JTS-401-05': 401,
  'JTS-401-06': 401,
  'JTS-403-01': 403,
  'JTS-403-02': 403,
  'JTS-403-03': 403,
  'JTS-500-01': 500,
};

type Outcome = 'accepted' | { code: string; status: number };

/** What a verification came to, in a form one `toEqual` can check. */
function outcome(result: VerifyResult): Outcome {
  return result.ok ? 'accepted' : { code: result.error.code, status: result.error.status };
}

/** Short printable form of a claim value for test names. */
function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `a ${text.length}-character string` : text;
}

const rejectedWith = (code: JtsCode): Outcome => ({ code, status: STATUS[code] });

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Independent JWS signer (does not use src/jts/algorithms), so tests can sign anything, including bad claims. */
function signInput(alg: JtsAlgorithm, privateKey: KeyObject, input: string): string {
  const bits = alg.slice(2);
  const hash = `sha${bits}`;
  let key: SignKeyObjectInput;
  if (alg.startsWith('ES')) key = { key: privateKey, dsaEncoding: 'ieee-p1363' };
  else if (alg.startsWith('RS')) key = { key: privateKey };
  else key = { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 };
  return sign(hash, Buffer.from(input), key).toString('base64url');
}

function signJws(alg: JtsAlgorithm, privateKey: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown> | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signInput(alg, privateKey, input)}`;
}

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ec521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attackerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const PRIVATE_KEYS: Record<JtsAlgorithm, KeyObject> = {
  ES256: ec256.privateKey,
  ES384: ec384.privateKey,
  ES512: ec521.privateKey,
  RS256: rsa.privateKey,
  RS384: rsa.privateKey,
  RS512: rsa.privateKey,
  PS256: rsa.privateKey,
  PS384: rsa.privateKey,
  PS512: rsa.privateKey,
};

let clock: ManualClock;
let ring: KeyRing;
let kid: string;

beforeAll(async () => {
  ring = await KeyRing.from([{ alg: 'ES256', privateKey: ec256.privateKey }]);
  kid = ring.signer.kid;
});

beforeEach(() => {
  clock = new ManualClock(START);
});

function verifierFor(keyRing: KeyRing, options: Partial<BearerPassVerifierOptions> = {}) {
  return createBearerPassVerifier({ keyFor: (id) => keyRing.get(id), clock, audience: AUD, issuer: ISS, clockSkewSeconds: SKEW, ...options });
}

function verify(token: unknown, options: Partial<BearerPassVerifierOptions> = {}): VerifyResult {
  return verifierFor(ring, options)(token);
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { prn: 'user-1', aid: 'session-1', tkn_id: 'token-1', iat: NOW, exp: NOW + 300, iss: ISS, aud: AUD, ...overrides };
}

const header = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'ES256', typ: 'JTS-S/v1', kid, ...overrides });

/** A token validly signed by our ES256 key with whatever header and claims the test wants. */
function ours(headerOverrides: Record<string, unknown> = {}, payload: Record<string, unknown> | string = claims()): string {
  return signJws('ES256', ec256.privateKey, header(headerOverrides), payload);
}

function withoutKey(object: Record<string, unknown>, name: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => key !== name));
}

describe('BearerPass mint and verify', () => {
  test('a token signed by hand with the helpers of this file is accepted (the rejections below fail for their own reason)', () => {
    expect(outcome(verify(ours()))).toBe('accepted');
  });

  test.each(JTS_ALGORITHMS)('a %s BearerPass round-trips through our verifier and verifies with jose', async (alg) => {
    const keyRing = await KeyRing.from([{ alg, privateKey: PRIVATE_KEYS[alg] }]);
    const mint = createBearerPassIssuer({ keyRing, clock, lifetimeSeconds: 300, issuer: ISS, audience: AUD });
    const minted = mint({ prn: 'user-1', aid: 'session-1', perm: ['read:profile'], atm: 'pwd' });

    const protectedHeader = JSON.parse(Buffer.from(minted.token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(protectedHeader).toEqual({ alg, typ: 'JTS-S/v1', kid: keyRing.signer.kid });

    const result = verifierFor(keyRing)(minted.token);
    expect(outcome(result)).toBe('accepted');
    if (!result.ok) return;
    expect(result.payload).toEqual(minted.claims);
    expect(result.header).toEqual({ alg, typ: 'JTS-S/v1', kid: keyRing.signer.kid });

    // Independent implementation: jose, with the key exactly as the JWKS publishes it.
    const jwk = keyRing.jwks().keys[0]!;
    const key = await importJWK(jwk, alg);
    const verified = await jwtVerify(minted.token, key, { algorithms: [alg], typ: 'JTS-S/v1', issuer: ISS, audience: AUD, currentDate: new Date(clock.now()) });
    expect(verified.protectedHeader).toEqual({ alg, typ: 'JTS-S/v1', kid: keyRing.signer.kid });
    expect(verified.payload).toEqual(minted.claims);
  });

  test.each(JTS_ALGORITHMS)('a %s token signed by jose is accepted by our verifier', async (alg) => {
    const keyRing = await KeyRing.from([{ alg, privateKey: PRIVATE_KEYS[alg] }]);
    const token = await new SignJWT(claims({ tkn_id: `jose-${alg}` }))
      .setProtectedHeader({ alg, typ: 'JTS-S/v1', kid: keyRing.signer.kid })
      .sign(PRIVATE_KEYS[alg]);
    const result = verifierFor(keyRing)(token);
    expect(outcome(result)).toBe('accepted');
    expect(result.ok && result.payload.tkn_id).toBe(`jose-${alg}`);
  });

  test('every minted token has its own tkn_id and carries iss, aud, iat and exp', () => {
    const mint = createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, issuer: ISS, audience: AUD });
    const first = mint({ prn: 'user-1', aid: 'session-1' });
    const second = mint({ prn: 'user-1', aid: 'session-1' });
    expect(first.claims.tkn_id).not.toBe(second.claims.tkn_id);
    expect(first.claims).toMatchObject({ iss: ISS, aud: AUD, iat: NOW, exp: NOW + 300 });
    expect(first.expiresIn).toBe(300);
  });

  test('the issuer caps grc at 60 seconds', () => {
    const mint = createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, graceSeconds: 3600 });
    expect(mint({ prn: 'user-1', aid: 'session-1' }).claims.grc).toBe(60);
  });
});

describe('BearerPass algorithm and key confusion', () => {
  test('an unsigned alg "none" token with our kid is refused as a bad signature', () => {
    const unsigned = `${b64(header({ alg: 'none' }))}.${b64(claims())}.`;
    expect(outcome(verify(unsigned))).toEqual(rejectedWith('JTS-401-02'));
    const withJunkSignature = `${b64(header({ alg: 'none' }))}.${b64(claims())}.AAAA`;
    expect(outcome(verify(withJunkSignature))).toEqual(rejectedWith('JTS-401-02'));
  });

  test.each([
    ['the public key PEM', (): string => ec256.publicKey.export({ format: 'pem', type: 'spki' }).toString()],
    ['the published JWK', (): string => JSON.stringify(ring.jwks().keys[0])],
    ['the raw JWK x coordinate', (): string => ring.jwks().keys[0]!.x!],
  ])('an HS256 token whose HMAC secret is %s is refused as a bad signature', (_name, secret) => {
    const input = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
    const token = `${input}.${createHmac('sha256', secret()).update(input).digest('base64url')}`;
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('an ES384 header on our ES256 key is refused as a bad signature', () => {
    const input = `${b64(header({ alg: 'ES384' }))}.${b64(claims())}`;
    const signature = sign('sha384', Buffer.from(input), { key: ec256.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    expect(outcome(verify(`${input}.${signature}`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('an RS256 header with our EC kid, signed by an RSA key, is refused as a bad signature', () => {
    const token = signJws('RS256', attackerRsa.privateKey, header({ alg: 'RS256' }), claims());
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a PS256 header on an RS256 key, signed by that very key, is refused as a bad signature', async () => {
    const rsRing = await KeyRing.from([{ alg: 'RS256', privateKey: rsa.privateKey }]);
    const token = signJws('PS256', rsa.privateKey, { alg: 'PS256', typ: 'JTS-S/v1', kid: rsRing.signer.kid }, claims());
    expect(outcome(verifierFor(rsRing)(token))).toEqual(rejectedWith('JTS-401-02'));
    // The same key with its own alg is fine: the refusal above is about the alg alone.
    const good = signJws('RS256', rsa.privateKey, { alg: 'RS256', typ: 'JTS-S/v1', kid: rsRing.signer.kid }, claims());
    expect(outcome(verifierFor(rsRing)(good))).toBe('accepted');
  });

  test('an alg header that is not a string is refused as a bad signature', () => {
    expect(outcome(verify(ours({ alg: ['ES256'] })))).toEqual(rejectedWith('JTS-401-02'));
    expect(outcome(verify(ours({ alg: undefined })))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a token with an unknown kid is refused as a bad signature', () => {
    expect(outcome(verify(ours({ kid: 'no-such-key' })))).toEqual(rejectedWith('JTS-401-02'));
    expect(outcome(verify(ours({ kid: '__proto__' })))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a token without a kid, or with an empty or non-string one, is malformed', () => {
    expect(outcome(verify(signJws('ES256', ec256.privateKey, withoutKey(header(), 'kid'), claims())))).toEqual(rejectedWith('JTS-400-01'));
    expect(outcome(verify(ours({ kid: '' })))).toEqual(rejectedWith('JTS-400-01'));
    expect(outcome(verify(ours({ kid: 42 })))).toEqual(rejectedWith('JTS-400-01'));
  });

  test.each([
    ['JWT', 'JWT'],
    ['lower-case jts-s/v1', 'jts-s/v1'],
    ['application/JTS-S/v1', 'application/JTS-S/v1'],
    ['a number', 1],
  ])('a typ of %s is malformed', (_name, typ) => {
    expect(outcome(verify(ours({ typ })))).toEqual(rejectedWith('JTS-400-01'));
  });

  test('a token without typ is malformed', () => {
    expect(outcome(verify(signJws('ES256', ec256.privateKey, withoutKey(header(), 'typ'), claims())))).toEqual(rejectedWith('JTS-400-01'));
  });

  test.each(['prn', 'aid', 'exp', 'perm'])('changing %s after signing breaks the signature', (name) => {
    const [encodedHeader, , signature] = ours({}, claims({ perm: ['read:profile'] })).split('.') as [string, string, string];
    const changed = claims({ perm: ['read:profile'], [name]: name === 'exp' ? NOW + 86_400 : name === 'perm' ? ['admin:access'] : 'someone-else' });
    expect(outcome(verify(`${encodedHeader}.${b64(changed)}.${signature}`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('changing the header after signing breaks the signature', () => {
    const [, payload, signature] = ours().split('.') as [string, string, string];
    expect(outcome(verify(`${b64(header({ extra: 1 }))}.${payload}.${signature}`))).toEqual(rejectedWith('JTS-401-02'));
  });
});

describe('BearerPass headers that are never honoured', () => {
  const attackerJwk = attackerEc.publicKey.export({ format: 'jwk' }) as JWK;
  let attackerKid: string;
  beforeAll(async () => {
    attackerKid = await calculateJwkThumbprint(attackerJwk, 'sha256');
  });

  const cases: [string, () => Record<string, unknown>][] = [
    ['jwk', () => ({ jwk: { ...attackerJwk, alg: 'ES256', use: 'sig' } })],
    ['jku', () => ({ jku: 'https://attacker.example/jwks.json' })],
    ['x5u', () => ({ x5u: 'https://attacker.example/cert.pem' })],
  ];

  test.each(cases)('a token signed by an attacker key announced in %s, with our kid, is refused as a bad signature', (_name, extra) => {
    const token = signJws('ES256', attackerEc.privateKey, header(extra()), claims());
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-02'));
  });

  test.each(cases)("a token signed by an attacker key announced in %s, with the attacker's kid, is refused as a bad signature", (_name, extra) => {
    const token = signJws('ES256', attackerEc.privateKey, header({ ...extra(), kid: attackerKid }), claims());
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-02'));
  });

  test.each([
    ['a known extension', ['exp']],
    ['an empty list', []],
    ['an unknown extension', ['https://example.test/ext']],
  ])('a crit header naming %s is malformed, even when signed by our key', (_name, crit) => {
    expect(outcome(verify(ours({ crit, 'https://example.test/ext': true })))).toEqual(rejectedWith('JTS-400-01'));
  });
});

describe('BearerPass signatures that are not signatures', () => {
  const signingInput = (): string => `${b64(header())}.${b64(claims())}`;

  test('an ECDSA signature of 64 zero bytes is refused as a bad signature', () => {
    expect(outcome(verify(`${signingInput()}.${Buffer.alloc(64).toString('base64url')}`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('an ECDSA signature in DER instead of the JWS raw form is refused as a bad signature', () => {
    const der = sign('sha256', Buffer.from(signingInput()), ec256.privateKey).toString('base64url');
    expect(outcome(verify(`${signingInput()}.${der}`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a valid ECDSA signature with a byte added or removed is refused as a bad signature', () => {
    const [, , signature] = ours().split('.') as [string, string, string];
    const raw = Buffer.from(signature, 'base64url');
    expect(outcome(verify(`${signingInput()}.${Buffer.concat([raw, Buffer.alloc(1)]).toString('base64url')}`))).toEqual(rejectedWith('JTS-401-02'));
    expect(outcome(verify(`${signingInput()}.${raw.subarray(1).toString('base64url')}`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a token stripped to "header.payload." is refused as a bad signature', () => {
    expect(outcome(verify(`${signingInput()}.`))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a token stripped to "header.payload" is malformed', () => {
    expect(outcome(verify(signingInput()))).toEqual(rejectedWith('JTS-400-01'));
  });

  test('a signature with characters outside base64url is refused as a bad signature', () => {
    expect(outcome(verify(`${signingInput()}.abc+/=`))).toEqual(rejectedWith('JTS-401-02'));
  });
});

describe('BearerPass inputs that are not tokens', () => {
  const validHeader = (): string => b64(header());
  test.each<[string, () => unknown]>([
    ['an empty string', () => ''],
    ['a word', () => 'garbage'],
    ['two dots', () => '..'],
    ['four segments', () => `${ours()}.AAAA`],
    ['a header that is not base64url', () => `!!!.${b64(claims())}.AAAA`],
    ['a header that is not JSON', () => `${b64('not json')}.${b64(claims())}.AAAA`],
    ['a header that is a JSON array', () => `${b64('["ES256"]')}.${b64(claims())}.AAAA`],
    ['a header that is JSON null', () => `${b64('null')}.${b64(claims())}.AAAA`],
    ['a payload that is not base64url', () => `${validHeader()}.%%%.AAAA`],
    ['a 10 KB token', () => `${validHeader()}.${'A'.repeat(10 * 1024)}.AAAA`],
    ['a 10 KB string without dots', () => 'x'.repeat(10 * 1024)],
    ['undefined', () => undefined],
    ['null', () => null],
    ['the number 42', () => 42],
    ['an empty object', () => ({})],
    ['an array of three strings', () => ours().split('.')],
    ['a Buffer of a valid token', () => Buffer.from(ours())],
  ])('%s is malformed and does not throw', (_name, input) => {
    const value = input();
    let result: VerifyResult | undefined;
    expect(() => {
      result = verify(value);
    }).not.toThrow();
    expect(outcome(result!)).toEqual(rejectedWith('JTS-400-01'));
  });

  test('a validly signed payload that is not JSON is malformed', () => {
    expect(outcome(verify(ours({}, 'not json at all')))).toEqual(rejectedWith('JTS-400-01'));
  });

  test('a validly signed payload that is a JSON array is malformed', () => {
    expect(outcome(verify(ours({}, '[1,2,3]')))).toEqual(rejectedWith('JTS-400-01'));
  });
});

describe('BearerPass claims', () => {
  test.each(['prn', 'aid', 'tkn_id', 'iat', 'exp'])('a validly signed token without %s is refused for missing claims', (name) => {
    expect(outcome(verify(ours({}, withoutKey(claims(), name))))).toEqual(rejectedWith('JTS-400-02'));
  });

  test.each(
    ([
      ['prn', 42],
      ['prn', ''],
      ['prn', null],
      ['prn', ['user-1']],
      ['prn', 'x'.repeat(257)], // longer than any id we issue
      ['aid', 42],
      ['aid', { id: 'session-1' }],
      ['tkn_id', 42],
      ['tkn_id', true],
      ['iat', String(NOW)],
      ['iat', NOW + 0.5],
      ['iat', -1],
      ['exp', String(NOW + 300)],
      ['exp', NOW + 300.5],
      ['exp', null],
      ['exp', 1e300],
      ['perm', 'admin:access'],
      ['perm', [42]],
      ['grc', '60'],
      ['grc', -10],
      ['aud', 42],
      ['aud', []],
      ['iss', 42],
      ['ath', 'yesterday'],
      ['amr', 'pwd'],
      ['amr', [1]],
      ['auth_time', -1],
      ['auth_time', '1767268800'],
      ['email_verified', 'true'],
      ['email_verified', 1],
    ] as [string, unknown][]
    ).map(([name, value]) => [name, show(value), value] as const),
  )('a validly signed token whose %s is %s is refused for bad claims', (name, _shown, value) => {
    expect(outcome(verify(ours({}, claims({ [name]: value }))))).toEqual(rejectedWith('JTS-400-02'));
  });

  test('a token issued more than the clock skew in the future is refused; within the skew it is accepted', () => {
    expect(outcome(verify(ours({}, claims({ iat: NOW + SKEW }))))).toBe('accepted');
    expect(outcome(verify(ours({}, claims({ iat: NOW + SKEW + 1 }))))).toEqual(rejectedWith('JTS-400-02'));
  });
});

describe('BearerPass expiry', () => {
  function mintAt(options: { graceSeconds?: number } = {}) {
    return createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, issuer: ISS, audience: AUD, ...options })({ prn: 'user-1', aid: 'session-1' });
  }

  test('a token is accepted until exp plus the clock skew and expired one second later', () => {
    const { token, claims: minted } = mintAt();
    clock.set(minted.exp * 1000);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((minted.exp + SKEW) * 1000 + 999);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((minted.exp + SKEW + 1) * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
  });

  test('with no clock skew allowed a token expires one second after exp', () => {
    const { token, claims: minted } = mintAt();
    clock.set(minted.exp * 1000 + 999);
    expect(outcome(verify(token, { clockSkewSeconds: 0 }))).toBe('accepted');
    clock.set((minted.exp + 1) * 1000);
    expect(outcome(verify(token, { clockSkewSeconds: 0 }))).toEqual(rejectedWith('JTS-401-01'));
  });

  test('an expired token is reported as expired even long after', () => {
    const { token } = mintAt();
    clock.advance(30 * 86_400 * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
  });

  test('a grc of 30 extends acceptance by 30 seconds', () => {
    const exp = NOW + 300;
    const token = ours({}, claims({ exp, grc: 30 }));
    clock.set((exp + 30 + SKEW) * 1000);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((exp + 31 + SKEW) * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
  });

  test('a grc of 3600 is treated as 60', () => {
    const exp = NOW + 300;
    const token = ours({}, claims({ exp, grc: 3600 }));
    clock.set((exp + 59 + SKEW) * 1000);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((exp + 60 + SKEW) * 1000);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((exp + 61 + SKEW) * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
    clock.set((exp + 3000) * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
  });

  test('a minted token with the capped grace is accepted for exp + 60 + skew and not after', () => {
    const { token, claims: minted } = mintAt({ graceSeconds: 3600 });
    clock.set((minted.exp + 60 + SKEW) * 1000);
    expect(outcome(verify(token))).toBe('accepted');
    clock.set((minted.exp + 61 + SKEW) * 1000);
    expect(outcome(verify(token))).toEqual(rejectedWith('JTS-401-01'));
  });
});

describe('BearerPass audience and issuer', () => {
  test('a token for another audience is refused with audience_mismatch', () => {
    expect(outcome(verify(ours({}, claims({ aud: 'https://other.example.test' }))))).toEqual(rejectedWith('JTS-403-01'));
  });

  test('a token without aud is refused when an audience is configured', () => {
    expect(outcome(verify(ours({}, withoutKey(claims(), 'aud'))))).toEqual(rejectedWith('JTS-403-01'));
  });

  test('an aud array containing our audience is accepted', () => {
    expect(outcome(verify(ours({}, claims({ aud: ['https://other.example.test', AUD] }))))).toBe('accepted');
  });

  test('an aud array without our audience is refused with audience_mismatch', () => {
    expect(outcome(verify(ours({}, claims({ aud: ['https://other.example.test', `${AUD}/`] }))))).toEqual(rejectedWith('JTS-403-01'));
  });

  test('any aud is accepted when no audience is configured', () => {
    expect(outcome(verify(ours({}, claims({ aud: 'https://other.example.test' })), { audience: undefined }))).toBe('accepted');
  });

  test('a token from another issuer is refused as a bad signature', () => {
    expect(outcome(verify(ours({}, claims({ iss: 'https://evil.example.test' }))))).toEqual(rejectedWith('JTS-401-02'));
  });

  test('a token without iss is refused when an issuer is configured', () => {
    expect(outcome(verify(ours({}, withoutKey(claims(), 'iss'))))).toEqual(rejectedWith('JTS-401-02'));
  });
});
