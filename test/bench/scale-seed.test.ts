import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { accountEmail, credentialsFor, SCALE_PASSWORD, seedAccounts, seedMirrors, seedSessions, type ScaleSeedTools } from '../../bench/lib/scale-seed';
import { CredentialMinter } from '../../src/auth/credentials';
import { ensureMirror } from '../../src/auth/mirrored-users';
import { describeDevice, maskIp } from '../../src/auth/client-info';
import { createBearerPassIssuer } from '../../src/jts/bearer-pass/mint';
import { randomId, StateProofCodec } from '../../src/jts/state-proof';
import { newUser } from '../../src/users/new-user';
import { login, profile, renewOk } from '../support/http';
import { buildTestApp, testKeyRing, type TestApp } from '../support/test-app';

const N = 50;

/** The seeder's tools from the app's own components, as bench/lib/scale-built.ts makes them from dist/. */
async function toolsFor(app: TestApp, secret: Buffer): Promise<ScaleSeedTools> {
  const { jts } = app.config;
  const mint = createBearerPassIssuer({ keyRing: await testKeyRing(), clock: app.clock, lifetimeSeconds: jts.bearerPassLifetimeSeconds, issuer: jts.issuer, audience: jts.audience });
  return {
    newUser,
    mirror: { ensureMirror: (user) => ensureMirror({ sessions: app.sessions, settings: { stateProofLifetimeSeconds: jts.stateProofLifetimeSeconds } }, user) },
    sessions: app.sessions,
    randomId,
    minter: new CredentialMinter({ mint, stateProofs: new StateProofCodec(secret), clock: app.clock, stateProofLifetimeSeconds: jts.stateProofLifetimeSeconds, sessionPolicy: jts.sessionPolicy }),
    policy: jts.sessionPolicy,
    device: describeDevice('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'),
    ipPrefix: maskIp('203.0.113.7'),
  };
}

describe('the scale bench seeder (bench/lib/scale-seed.ts)', () => {
  let app: TestApp;
  let sql: pg.Client;
  let tools: ScaleSeedTools;

  beforeAll(async () => {
    const secret = randomBytes(32);
    app = await buildTestApp({ store: 'redis', accounts: 'postgres', keyRing: await testKeyRing(), stateProofSecret: secret });
    sql = new pg.Client({ connectionString: app.databaseUrl });
    await sql.connect();
    tools = await toolsFor(app, secret);
  });

  afterAll(async () => {
    await sql.end();
    await app.close();
  });

  it(`writes ${N} accounts, mirrors and sessions that the server accepts: profile, renew, session list and login`, async () => {
    const accounts = await seedAccounts(sql, tools, { first: 0, count: N, passwordHash: await app.hasher.hash(SCALE_PASSWORD), now: app.clock.now(), batch: 20 });
    await seedMirrors(tools, accounts, 0);
    const { sessions } = await seedSessions(tools, accounts.ids, app.config.jts.stateProofLifetimeSeconds * 1000);
    expect(sessions).toHaveLength(N);

    for (const [k, session] of sessions.entries()) {
      const credentials = credentialsFor(tools, session, accounts.template);
      const res = await profile(app.app, credentials.bearerPass);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: session.prn, email: accountEmail(k) });
      await renewOk(app.app, credentials.stateProof);
    }
    const first = credentialsFor(tools, sessions[0]!, accounts.template);
    const listed = await request(app.app).get('/jts/sessions').set('Authorization', `Bearer ${first.bearerPass}`);
    expect(listed.status).toBe(200);
    expect((listed.body as { sessions: { aid: string; device: string }[] }).sessions).toEqual([expect.objectContaining({ aid: sessions[0]!.aid, device: tools.device })]);
    await login(app.app, accountEmail(N - 1), SCALE_PASSWORD);
  });

  it('writes no key without a TTL, the accounts\' mirrors included', async () => {
    const accounts = await seedAccounts(sql, tools, { first: N, count: 5, passwordHash: await app.hasher.hash(SCALE_PASSWORD), now: app.clock.now() });
    await seedMirrors(tools, accounts, N);
    await seedSessions(tools, accounts.ids, 60_000);
    const redis = app.redis!;
    const keys = (await Promise.all(accounts.ids.map((id) => redis.keys(`${app.config.redis.keyPrefix}{u:${id}}*`)))).flat();
    const withoutTtl = (await Promise.all(keys.map(async (key) => ((await redis.pttl(key)) === -1 ? [key] : [])))).flat();
    // Per account: its mirror and its one session (a one-session user's session is listed in the
    // mirror's s1 field, with no index key).
    expect(keys).toHaveLength(10);
    expect(withoutTtl).toEqual([]);
  });
});
