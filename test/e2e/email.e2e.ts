import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors, registerThroughPage, settledView, signIn } from './support/browser';
import { startServer, type E2eServer } from './support/server';
import { codeOf, SmtpSink, tokenOf } from '../support/smtp-sink';

let server: E2eServer | undefined;
let browser: Browser | undefined;
let sink: SmtpSink | undefined;
/** The started parts, for the tests (beforeAll either fills it or fails the file). */
let parts: { server: E2eServer; browser: Browser; sink: SmtpSink };

beforeAll(async () => {
  sink = await SmtpSink.start();
  [server, browser] = await Promise.all([startServer('email', { SMTP_URL: sink.url, MAIL_FROM: 'Demo <auth@example.com>' }), launchChromium()]);
  parts = { server, browser, sink };
});

// Each part may be missing when beforeAll failed half-way (a server that did not start).
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

describe('email flows in Chromium', () => {
  it('resets a forgotten password from the mailed link, then signs in with the new one', async () => {
    const { server, browser, sink } = parts;
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');
    const mail = sink.next('user@example.com');
    await page.locator('#forgot-email').fill('user@example.com');
    await page.locator('#forgot-form button[type="submit"]').click();
    const token = tokenOf(await mail, 'reset');

    await page.goto(`${server.url}/#reset=${token}`);
    await page.locator('#reset-password').fill('a new demo password');
    await page.locator('#reset-form button[type="submit"]').click();
    await page.locator('#status', { hasText: 'Password changed' }).waitFor();
    // The token left the address bar as soon as the page read it.
    expect(new URL(page.url()).hash).toBe('');
    await signIn(page, 'user@example.com', 'a new demo password');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('verifies an address only when the user presses the button; the registrant keeps the password', async () => {
    const { server, browser, sink } = parts;
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');
    const verifyCalls: string[] = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/jts/email/verify') verifyCalls.push(req.method());
    });
    const email = await registerThroughPage(page);
    const token = tokenOf(await sink.next(email.toLowerCase()), 'verify');

    await page.goto(`${server.url}/#verify=${token}`);
    expect(await settledView(page)).toBe('dashboard');
    const button = page.locator('#verify-form button[type="submit"]', { hasText: 'Confirm my email address' });
    await button.waitFor();
    // Loading the page sent nothing (a mail scanner running the page would not verify), and the
    // token left the address bar.
    expect(verifyCalls).toEqual([]);
    expect(new URL(page.url()).hash).toBe('');
    await button.click();
    await page.locator('#status', { hasText: 'Your email address is verified.' }).waitFor();
    expect(await page.locator('#status').textContent()).not.toContain('Forgot password');
    expect(verifyCalls).toEqual(['POST']);
    // The session was sent along, so the password was kept (no "Forgot password" advice above).
    await page.locator('#verify-form').waitFor({ state: 'detached' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('tells a user who verifies without a session to choose a password', async () => {
    const { server, browser, sink } = parts;
    const registrant = await browser.newContext();
    const first = await registrant.newPage();
    await first.goto(server.url);
    expect(await settledView(first)).toBe('auth');
    const email = await registerThroughPage(first);
    const token = tokenOf(await sink.next(email.toLowerCase()), 'verify');
    // The link is opened somewhere else (another browser, or by the address's real owner).
    const other = await browser.newContext();
    const page = await other.newPage();
    await page.goto(`${server.url}/#verify=${token}`);
    expect(await settledView(page)).toBe('auth');
    await page.locator('#verify-form button[type="submit"]').click();
    await page.locator('#status', { hasText: 'choose a password with "Forgot password?"' }).waitFor();
    await registrant.close();
    await other.close();
  });

  it('keeps the password of a registrant who types it when confirming in another browser', async () => {
    const { server, browser, sink } = parts;
    const registrant = await browser.newContext();
    const first = await registrant.newPage();
    await first.goto(server.url);
    expect(await settledView(first)).toBe('auth');
    const email = await registerThroughPage(first);
    const token = tokenOf(await sink.next(email.toLowerCase()), 'verify');
    const other = await browser.newContext();
    const page = await other.newPage();
    await page.goto(`${server.url}/#verify=${token}`);
    expect(await settledView(page)).toBe('auth');
    await page.locator('#verify-password').fill('correct horse battery');
    await page.locator('#verify-form button[type="submit"]').click();
    await page.locator('#status', { hasText: 'Your email address is verified.' }).waitFor();
    expect(await page.locator('#status').textContent()).not.toContain('Forgot password');
    await signIn(page, email, 'correct horse battery');
    await registrant.close();
    await other.close();
  });

  it('signs in with an emailed code', async () => {
    const { server, browser, sink } = parts;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');
    const mail = sink.next('admin@example.com');
    await page.locator('#code-email').fill('admin@example.com');
    await page.locator('#code-request-form button[type="submit"]').click();
    const code = codeOf(await mail);
    await page.locator('#code-value').fill(code);
    await page.locator('#code-verify-form button[type="submit"]').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    await context.close();
  });
});
