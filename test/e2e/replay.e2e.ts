import type { Browser } from 'playwright-core';
import { bearerSentTo, launchChromium, recordPageErrors, recordResponses, registerThroughPage, settledView } from './support/browser';
import { startServer, type E2eServer } from './support/server';

/** The shortest grace window the server allows, so the test waits as little as possible. */
const GRACE_SECONDS = 5;

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer('replay', { JTS_ROTATION_GRACE: String(GRACE_SECONDS) }), launchChromium()]);
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

describe('a stolen StateProof', () => {
  it('used after the grace window gets JTS-401-05, and the victim is signed out at its next renewal', async () => {
    const victim = await browser.newContext();
    const victimResponses = recordResponses(victim);
    const victimPage = await victim.newPage();
    const errors = recordPageErrors(victimPage);
    await victimPage.goto(server.url);
    await settledView(victimPage);
    await registerThroughPage(victimPage, 'Margaret Hamilton');
    const victimBearer = await bearerSentTo(victimPage, '/api/profile', () => victimPage.locator('#refresh-profile').click());

    // The thief copies the cookie into a browser of their own.
    const stolen = (await victim.cookies()).find((cookie) => cookie.name === 'jts_state_proof');
    if (!stolen) throw new Error('no StateProof cookie after registering');
    const thief = await browser.newContext();
    const thiefResponses = recordResponses(thief);
    await thief.addCookies([stolen]);

    // The victim renews: the copied StateProof is now consumed. Then the grace window passes.
    await victimPage.locator('#renew-now').click();
    await victimPage.locator('#status', { hasText: 'BearerPass renewed' }).waitFor();
    expect(victimResponses.filter((r) => r.path === '/jts/renew').map((r) => r.status)).toContain(200);
    await new Promise((resolve) => setTimeout(resolve, (GRACE_SECONDS + 1.5) * 1000));

    // The thief's page renews with the stolen cookie on load: replay detected, session revoked.
    const thiefPage = await thief.newPage();
    await thiefPage.goto(server.url);
    expect(await settledView(thiefPage)).toBe('auth');
    await expectCode(thiefResponses, '/jts/renew', 401, 'JTS-401-05');

    // Every token of the session died with it, the victim's current BearerPass included ...
    const reused = await fetch(`${server.url}/api/profile`, { headers: { authorization: `Bearer ${victimBearer}` } });
    expect(await reused.json()).toMatchObject({ error_code: 'JTS-401-05' });
    // ... and the victim's next renewal ends the session in the page, with the reason shown.
    await victimPage.locator('#renew-now').click();
    await victimPage.locator('#view-auth').waitFor();
    await victimPage.locator('#status', { hasText: 'used twice' }).waitFor();
    await expectCode(victimResponses, '/jts/renew', 401, 'JTS-401-05');

    expect(errors).toEqual([]);
    await Promise.all([victim.close(), thief.close()]);
  });
});

/** The error body is read asynchronously; give it a moment to arrive. */
async function expectCode(responses: { path: string; status: number; code: string | undefined }[], path: string, status: number, code: string): Promise<void> {
  const deadline = Date.now() + 5000;
  const matches = () => responses.some((r) => r.path === path && r.status === status && r.code === code);
  while (!matches() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(responses.filter((r) => r.path === path).map((r) => `${r.status} ${r.code ?? ''}`.trim())).toContain(`${status} ${code}`);
}
