import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors, registerThroughPage, settledView, signIn } from './support/browser';
import { startServer, type E2eServer } from './support/server';
import { SmtpSink } from '../support/smtp-sink';

let server: E2eServer | undefined;
let browser: Browser | undefined;
let sink: SmtpSink | undefined;
let parts: { server: E2eServer; browser: Browser; sink: SmtpSink };

beforeAll(async () => {
  sink = await SmtpSink.start();
  [server, browser] = await Promise.all([startServer('email-change', { SMTP_URL: sink.url, MAIL_FROM: 'Demo <auth@example.com>' }), launchChromium()]);
  parts = { server, browser, sink };
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

describe('changing the address in Chromium', () => {
  it('asks from the profile card; the mailed link, opened signed out, waits for the sign-in and changes the address only on the click', async () => {
    const { server, browser, sink } = parts;
    const asking = await browser.newContext();
    const page = await asking.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');
    const email = (await registerThroughPage(page)).toLowerCase();
    const newEmail = `moved-${Date.now().toString(36)}@example.com`;
    const mail = sink.next(newEmail);
    await page.locator('#email-change-new').fill(newEmail);
    await page.locator('#email-change-form button[type="submit"]').click();
    await page.locator('#status', { hasText: 'Open the link we sent to the new address' }).waitFor();
    const token = /#email-change=([A-Za-z0-9_-]+)/.exec((await mail).parsed.text ?? '')?.[1] ?? '';
    expect(token).toHaveLength(43);

    // Another browser, signed out: the link asks for the sign-in first and sends nothing before the click.
    const other = await browser.newContext();
    const second = await other.newPage();
    const secondErrors = recordPageErrors(second);
    const confirmCalls: string[] = [];
    second.on('request', (req) => {
      if (new URL(req.url()).pathname === '/jts/account/email/confirm') confirmCalls.push(req.method());
    });
    await second.goto(`${server.url}/#email-change=${token}`);
    expect(await settledView(second)).toBe('auth');
    await second.locator('#status', { hasText: 'Sign in (with your current address)' }).waitFor();
    expect(new URL(second.url()).hash).toBe('');
    await signIn(second, email, 'correct horse battery');
    const button = second.locator('#email-change-confirm');
    await button.waitFor();
    expect(confirmCalls).toEqual([]);
    await button.click();
    await second.locator('#status', { hasText: `Your account now uses ${newEmail}` }).waitFor();
    await second.locator('#profile-email', { hasText: newEmail }).waitFor();
    expect(confirmCalls).toEqual(['POST']);
    expect([...errors, ...secondErrors]).toEqual([]);
    await asking.close();
    await other.close();
  });
});
