import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import type { JtsAlgorithm } from '../../src/jts/algorithms';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { createBearerPassVerifier } from '../../src/jts/bearer-pass/verify';
import { ManualClock } from '../../src/jts/clock';
import { createRingKey, KeyRing } from '../../src/jts/key-ring';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec256b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** RFC 7638 §3 computed by hand: SHA-256 over the required members in lexicographic order, no spaces. */
function manualThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

describe('KeyRing', () => {
  test.each<[string, JtsAlgorithm, { publicKey: KeyObject; privateKey: KeyObject }]>([
    ['EC', 'ES256', ec256],
    ['RSA', 'RS256', rsa],
  ])('the kid of an %s key is its RFC 7638 SHA-256 thumbprint', async (_kind, alg, pair) => {
    const ring = await KeyRing.from([{ alg, privateKey: pair.privateKey }]);
    const expected = await calculateJwkThumbprint(pair.publicKey.export({ format: 'jwk' }), 'sha256');
    expect(ring.signer.kid).toBe(expected);
    expect(ring.signer.kid).toBe(manualThumbprint(pair.publicKey));
    expect(ring.jwks().keys[0]!.kid).toBe(expected);
  });

  test('the same key gets the same kid whether given as its private or its public half', async () => {
    const fromPrivate = await createRingKey({ alg: 'ES256', privateKey: ec256.privateKey });
    const fromPublic = await createRingKey({ alg: 'ES256', publicKey: ec256.publicKey });
    expect(fromPublic.kid).toBe(fromPrivate.kid);
    expect(fromPublic.privateKey).toBeUndefined();
  });

  test.each<[string, JtsAlgorithm, KeyObject]>([
    ['EC', 'ES256', ec256.privateKey],
    ['RSA', 'RS256', rsa.privateKey],
    ['RSA (PSS)', 'PS256', rsa.privateKey],
  ])('the JWKS of an %s key carries only public members', async (_kind, alg, privateKey) => {
    const ring = await KeyRing.from([{ alg, privateKey }]);
    const [jwk] = ring.jwks().keys;
    for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    expect(jwk).toMatchObject({ kid: ring.signer.kid, alg, use: 'sig' });
    expect(JSON.stringify(ring.jwks())).not.toContain('"d"');
    // And the private half really is in the ring, so the check above is about publishing, not about absence.
    expect(ring.signer.privateKey.type).toBe('private');
  });

  test('the JWK of the ring key (not only the JWKS copy) has no private members', async () => {
    const key = await createRingKey({ alg: 'RS256', privateKey: rsa.privateKey });
    for (const member of PRIVATE_MEMBERS) expect(key.jwk).not.toHaveProperty(member);
  });

  test('changing a JWKS document handed out does not change the ring', async () => {
    const ring = await KeyRing.from([{ alg: 'ES256', privateKey: ec256.privateKey }]);
    const published = ring.jwks();
    published.keys[0]!.d = 'stolen';
    published.keys[0]!.kid = 'other';
    expect(ring.jwks().keys[0]).not.toHaveProperty('d');
    expect(ring.jwks().keys[0]!.kid).toBe(ring.signer.kid);
  });

  test('a retiring key publishes its exp', async () => {
    const ring = await KeyRing.from([
      { alg: 'ES256', privateKey: ec256b.privateKey },
      { alg: 'ES256', publicKey: ec256.publicKey, expiresAt: 1_800_000_000 },
    ]);
    expect(ring.jwks().keys[1]).toMatchObject({ exp: 1_800_000_000 });
    expect(ring.jwks().keys[0]).not.toHaveProperty('exp');
  });

  test.each<[string, JtsAlgorithm, () => KeyObject]>([
    ['ES256 with a P-384 key', 'ES256', () => ec384.privateKey],
    ['ES384 with a P-256 key', 'ES384', () => ec256.privateKey],
    ['ES512 with a P-256 key', 'ES512', () => ec256.privateKey],
    ['RS256 with an EC key', 'RS256', () => ec256.privateKey],
    ['PS256 with an EC key', 'PS256', () => ec256.privateKey],
    ['ES256 with an RSA key', 'ES256', () => rsa.privateKey],
    ['RS256 with a 1024-bit RSA key', 'RS256', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey],
    ['PS256 with a 1024-bit RSA key', 'PS256', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey],
    ['ES256 with an Ed25519 key', 'ES256', () => generateKeyPairSync('ed25519').privateKey],
  ])('%s is refused when the ring is built', async (_name, alg, privateKey) => {
    await expect(KeyRing.from([{ alg, privateKey: privateKey() }])).rejects.toThrow();
  });

  test('a mismatched public key is refused too, not only a mismatched private key', async () => {
    await expect(KeyRing.from([{ alg: 'ES256', privateKey: ec256.privateKey }, { alg: 'ES256', publicKey: ec384.publicKey }])).rejects.toThrow();
  });

  test('a private key that does not belong to the given public key is refused', async () => {
    await expect(createRingKey({ alg: 'ES256', publicKey: ec256.publicKey, privateKey: ec256b.privateKey })).rejects.toThrow(/does not belong/);
    await expect(KeyRing.from([{ alg: 'ES256', publicKey: ec256.publicKey, privateKey: ec256b.privateKey }])).rejects.toThrow();
    // The matching pair is fine.
    await expect(createRingKey({ alg: 'ES256', publicKey: ec256.publicKey, privateKey: ec256.privateKey })).resolves.toMatchObject({ alg: 'ES256' });
  });

  test('a private key passed as the public half, or a public key as the private half, is refused', async () => {
    await expect(createRingKey({ alg: 'ES256', publicKey: ec256.privateKey })).rejects.toThrow();
    await expect(createRingKey({ alg: 'ES256', privateKey: ec256.publicKey })).rejects.toThrow();
    await expect(createRingKey({ alg: 'ES256' })).rejects.toThrow();
  });

  test('an empty ring, a key listed twice, and a signer without a private half are refused', async () => {
    await expect(KeyRing.from([])).rejects.toThrow();
    const signer = await createRingKey({ alg: 'ES256', privateKey: ec256.privateKey });
    const publicOnly = await createRingKey({ alg: 'ES256', publicKey: ec256b.publicKey });
    expect(() => new KeyRing([signer, signer], signer.kid)).toThrow();
    expect(() => new KeyRing([signer, publicOnly], publicOnly.kid)).toThrow();
    expect(() => new KeyRing([signer], 'unknown-kid')).toThrow();
    await expect(KeyRing.from([{ alg: 'ES256', publicKey: ec256.publicKey }])).rejects.toThrow();
  });

  test('the signer is listed first in the JWKS, wherever it is in the ring', async () => {
    const old = await createRingKey({ alg: 'ES256', publicKey: ec256.publicKey });
    const fresh = await createRingKey({ alg: 'ES256', privateKey: ec256b.privateKey });
    const ring = new KeyRing([old, fresh], fresh.kid);
    expect(ring.signer.kid).toBe(fresh.kid);
    expect(ring.jwks().keys.map((key) => key.kid)).toEqual([fresh.kid, old.kid]);
    expect(ring.size).toBe(2);
    expect(ring.get(old.kid)).toBe(old);
  });

  test('a token signed by the previous key verifies while that key is in the ring, and not once it is removed', async () => {
    const clock = new ManualClock();
    const verifierFor = (ring: KeyRing) => createBearerPassVerifier({ keyFor: (kid) => ring.get(kid), clock });

    const before = await KeyRing.from([{ alg: 'ES256', privateKey: ec256.privateKey }]);
    const oldToken = createBearerPassIssuer({ keyRing: before, clock, lifetimeSeconds: 300 })({ prn: 'user-1', aid: 'session-1' }).token;

    const rotated = await KeyRing.from([
      { alg: 'ES256', privateKey: ec256b.privateKey },
      { alg: 'ES256', publicKey: ec256.publicKey },
    ]);
    const oldResult = verifierFor(rotated)(oldToken);
    expect(oldResult.ok).toBe(true);
    expect(oldResult.ok && oldResult.key.kid).toBe(before.signer.kid);

    const newToken = createBearerPassIssuer({ keyRing: rotated, clock, lifetimeSeconds: 300 })({ prn: 'user-1', aid: 'session-1' }).token;
    const newResult = verifierFor(rotated)(newToken);
    expect(newResult.ok && newResult.header.kid).toBe(rotated.signer.kid);
    expect(rotated.signer.kid).not.toBe(before.signer.kid);

    const retired = await KeyRing.from([{ alg: 'ES256', privateKey: ec256b.privateKey }]);
    const afterRemoval = verifierFor(retired)(oldToken);
    expect(afterRemoval.ok).toBe(false);
    expect(!afterRemoval.ok && afterRemoval.error.code).toBe('JTS-401-02');
    expect(!afterRemoval.ok && afterRemoval.error.status).toBe(401);
    expect(verifierFor(retired)(newToken).ok).toBe(true);
  });
});
