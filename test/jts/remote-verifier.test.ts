import { generateKeyPairSync } from 'node:crypto';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { ManualClock } from '../../src/jts/clock';
import { KeyRing } from '../../src/jts/key-ring';
import { createVerifier } from '@jts-auth/verifier';

const AUDIENCE = 'https://auth.example';
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/** An issuer whose published key set can change, served through an injected fetch that counts calls. */
async function issuer(clock: ManualClock) {
  const first = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
  let published = first;
  let fetches = 0;
  const fetchJwks = ((): Promise<Response> => {
    fetches++;
    return Promise.resolve(new Response(JSON.stringify(published.jwks()), { status: 200, headers: { 'content-type': 'application/json' } }));
  }) as typeof fetch;
  const mintWith = (ring: KeyRing) => createBearerPassIssuer({ keyRing: ring, clock, lifetimeSeconds: 300, issuer: AUDIENCE, audience: AUDIENCE });
  const subject = { prn: 'p'.repeat(22), aid: 'a'.repeat(22) };
  return {
    first,
    fetchJwks,
    fetches: () => fetches,
    publish(ring: KeyRing) {
      published = ring;
    },
    token: (ring: KeyRing) => mintWith(ring)(subject).token,
  };
}

describe('a remote verifier meeting a key id it does not hold', () => {
  it('answers a token newer than its key set with JTS-500-01 (retry, with retry_after) while the cooldown holds, then accepts it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 12));
    const auth = await issuer(clock);
    const verifier = createVerifier({ jwksUrl: 'https://auth.example/.well-known/jts-jwks', fetch: auth.fetchJwks, clock, audience: AUDIENCE, issuer: AUDIENCE, unknownKidCooldownMs: 30_000 });
    expect((await verifier.verify(auth.token(auth.first))).ok).toBe(true);
    expect(auth.fetches()).toBe(1);

    // The issuer publishes a second key and signs with it at once (no publish-first wait).
    clock.advance(5_000);
    const rotated = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
    auth.publish(rotated);
    const fresh = auth.token(rotated);
    const refused = await verifier.verify(fresh);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.toBody(clock.now())).toMatchObject({ error: 'key_unavailable', error_code: 'JTS-500-01', action: 'retry', retry_after: 25 });
    expect(auth.fetches()).toBe(1);

    clock.advance(25_000);
    expect((await verifier.verify(fresh)).ok).toBe(true);
    expect(auth.fetches()).toBe(2);
  });

  it('answers a token older than its key set with JTS-401-02: that key was never the issuer’s', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 12));
    const auth = await issuer(clock);
    const foreign = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
    const forged = auth.token(foreign);
    clock.advance(2_000);
    const verifier = createVerifier({ jwksUrl: 'https://auth.example/.well-known/jts-jwks', fetch: auth.fetchJwks, clock, audience: AUDIENCE, issuer: AUDIENCE, unknownKidCooldownMs: 30_000 });
    expect((await verifier.verify(auth.token(auth.first))).ok).toBe(true);
    const refused = await verifier.verify(forged);
    expect(refused.ok ? 'accepted' : refused.error.code).toBe('JTS-401-02');
  });

  it('answers an unknown key id with JTS-401-02 after a fetch that could not find it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 12));
    const auth = await issuer(clock);
    const verifier = createVerifier({ jwksUrl: 'https://auth.example/.well-known/jts-jwks', fetch: auth.fetchJwks, clock, audience: AUDIENCE, issuer: AUDIENCE, unknownKidCooldownMs: 30_000 });
    expect((await verifier.verify(auth.token(auth.first))).ok).toBe(true);
    clock.advance(31_000);
    const foreign = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
    clock.advance(-2_000);
    const forged = auth.token(foreign);
    clock.advance(2_000);
    const refused = await verifier.verify(forged);
    expect(auth.fetches()).toBe(2);
    expect(refused.ok ? 'accepted' : refused.error.code).toBe('JTS-401-02');
  });

  // Review finding: the unverified `iat` must not let anyone turn a forged token into a 5xx.
  it('answers a token claiming to be issued in the future with JTS-401-02, not a retry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 12));
    const auth = await issuer(clock);
    const verifier = createVerifier({ jwksUrl: 'https://auth.example/.well-known/jts-jwks', fetch: auth.fetchJwks, clock, audience: AUDIENCE, issuer: AUDIENCE, unknownKidCooldownMs: 30_000 });
    expect((await verifier.verify(auth.token(auth.first))).ok).toBe(true);
    const foreign = await KeyRing.from([{ alg: 'ES256', privateKey: ec() }]);
    clock.advance(3_600_000);
    const fromTheFuture = auth.token(foreign);
    clock.advance(-3_600_000 + 1_000);
    const refused = await verifier.verify(fromTheFuture);
    expect(refused.ok ? 'accepted' : refused.error.code).toBe('JTS-401-02');
  });
});
