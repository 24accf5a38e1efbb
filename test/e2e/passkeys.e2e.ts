import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, registerThroughPage, settledView, waitForCount, withClient } from './support/browser';
import { startServer, type E2eServer } from './support/server';

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  // Enrolment needs a verified address unless verification is off; the TOTP e2e test covers that step.
  [server, browser] = await Promise.all([startServer('passkeys', { JTS_EMAIL_VERIFICATION: 'off' }, { hostname: 'localhost' }), launchChromium()]);
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

/** A page with a CTAP2 platform authenticator (Chrome DevTools Protocol's virtual authenticator): resident keys, user verification on. */
async function pageWithAuthenticator(context: BrowserContext): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { page, cdp, authenticatorId };
}

async function signOut(page: Page): Promise<void> {
  await page.locator('#sign-out').click();
  await page.locator('#view-auth').waitFor({ state: 'visible' });
  await page.locator('#tab-sign-in').click();
}

const amrOf = (page: Page) => withClient<string[]>(page, 'return client.claims.amr;');

describe('passkeys on the demo page, in Chromium with a virtual authenticator', () => {
  it('adds a passkey, signs in with it alone and as the second step, refuses a clone with a stale counter, and removes it', async () => {
    const context = await browser.newContext();
    const { page, cdp, authenticatorId } = await pageWithAuthenticator(context);
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');
    const email = await registerThroughPage(page);

    // Add: the new account's sign-in is fresh.
    await page.locator('#passkey-state', { hasText: 'None' }).waitFor();
    await page.locator('#passkey-name').fill('Laptop');
    await page.locator('#passkey-add').click();
    await waitForCount(page.locator('#passkey-list li'), 1);
    expect(await page.locator('#passkey-list li input').inputValue()).toBe('Laptop');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);

    // Rename.
    await page.locator('#passkey-list li input').fill('Work laptop');
    await page.locator('#passkey-list li button', { hasText: 'Rename' }).click();
    await page.locator('#status', { hasText: 'Passkey renamed.' }).waitFor();

    // Passwordless: no email, no password.
    await signOut(page);
    await page.locator('#passkey-sign-in').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    await page.locator('#profile-email', { hasText: email }).waitFor();
    expect(await amrOf(page)).toEqual(['swk', 'user', 'mfa']);

    // The password now asks for a second step; the passkey completes it.
    await signOut(page);
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill('correct horse battery');
    await page.locator('#panel-sign-in button[type="submit"]').click();
    await page.locator('#panel-mfa').waitFor({ state: 'visible' });
    await page.locator('#mfa-passkey').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    expect(await amrOf(page)).toEqual(['pwd', 'swk', 'user', 'mfa']);

    // A clone: the same key in another authenticator, its counter as it was at registration.
    const stored = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];
    if (!stored) throw new Error('the authenticator lost its credential');
    expect(stored.signCount).toBeGreaterThanOrEqual(2);
    const thief = await browser.newContext();
    const copy = await pageWithAuthenticator(thief);
    await copy.cdp.send('WebAuthn.addCredential', { authenticatorId: copy.authenticatorId, credential: { ...stored, signCount: 0 } });
    await copy.page.goto(server.url);
    expect(await settledView(copy.page)).toBe('auth');
    await copy.page.locator('#passkey-sign-in').click();
    await copy.page.locator('#login-error', { hasText: 'The passkey could not be verified.' }).waitFor();
    expect(await copy.page.locator('#view-dashboard').isVisible()).toBe(false);
    await thief.close();

    // The genuine authenticator still works; its sign-in is fresh and multi-factor, so it may remove the passkey.
    await signOut(page);
    await page.locator('#passkey-sign-in').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    await waitForCount(page.locator('#passkey-list li'), 1);
    await page.locator('#passkey-list li button', { hasText: 'Remove' }).click();
    await waitForCount(page.locator('#passkey-list li'), 0);
    await page.locator('#passkey-state', { hasText: 'None' }).waitFor();

    // Removed here, still on the device: the sign-in says so.
    await signOut(page);
    await page.locator('#passkey-sign-in').click();
    await page.locator('#login-error', { hasText: 'This passkey is not registered here; sign in another way.' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
