import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors, registerThroughPage, waitForCount } from './support/browser';
import { startServer, type E2eServer } from './support/server';

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer('mfa'), launchChromium()]);
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

describe('second factor on the demo page', () => {
  it('sets up an authenticator from the QR code, shows the recovery codes once, and asks for the second step at sign-in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    const email = await registerThroughPage(page);
    // An authenticator is added only to a verified address (review R2): confirm it with the link the
    // development outbox holds, as the user would from the mail.
    let token: string | undefined;
    for (let tries = 0; token === undefined && tries < 50; tries++) {
      const { mails } = (await (await fetch(`${server.url}/dev/outbox`)).json()) as { mails: { to: string; text: string }[] };
      token = /#verify=([\w-]+)/.exec(mails.find((mail) => mail.to === email.toLowerCase())?.text ?? '')?.[1];
      if (token === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(token).toBeDefined();
    await page.goto(`${server.url}/#verify=${token ?? ''}`);
    await page.locator('#verify-form button[type="submit"]', { hasText: 'Confirm my email address' }).click();
    await page.locator('#status', { hasText: 'Your email address is verified.' }).waitFor();

    await page.locator('#mfa-state', { hasText: 'Off' }).waitFor();
    await page.locator('#mfa-enrol').click();
    await page.locator('#mfa-qr svg').waitFor();
    const secret = (await page.locator('#mfa-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // What the authenticator app shows (the server runs on the real clock here).
    await page.locator('#mfa-confirm-code').fill(TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() }));
    await page.locator('#mfa-confirm button[type="submit"]').click();
    await waitForCount(page.locator('#mfa-code-list li'), 10);
    const recoveryCode = (await page.locator('#mfa-code-list li').first().textContent()) ?? '';
    expect(recoveryCode).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    await page.locator('#mfa-state', { hasText: '10 recovery codes left' }).waitFor();
    await page.locator('#mfa-codes-saved').click();
    await waitForCount(page.locator('#mfa-code-list li'), 0);

    await page.locator('#sign-out').click();
    await page.locator('#view-auth').waitFor({ state: 'visible' });
    await page.locator('#tab-sign-in').click();
    await page.locator('#login-email').fill(email);
    await page.locator('#login-password').fill('correct horse battery');
    await page.locator('#panel-sign-in button[type="submit"]').click();
    await page.locator('#panel-mfa').waitFor({ state: 'visible' });
    expect(await page.locator('#view-dashboard').isVisible()).toBe(false);

    await page.locator('#mfa-code').fill('AAAA-AAAA-AAAA-AAAA');
    await page.locator('#panel-mfa button[type="submit"]').click();
    await page.locator('#mfa-error', { hasText: 'The code is wrong or was already used.' }).waitFor();

    await page.locator('#mfa-code').fill(recoveryCode);
    await page.locator('#panel-mfa button[type="submit"]').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    await page.locator('#mfa-state', { hasText: '9 recovery codes left' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
