import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors, settledView, signIn } from './support/browser';
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
