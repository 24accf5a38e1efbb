import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { bearerSentTo, launchChromium, recordPageErrors, recordResponses, registerThroughPage, settledView, signIn, waitForCount } from './support/browser';
import { OUTPUT_DIR, startServer, type E2eServer } from './support/server';

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer('sign-in'), launchChromium()]);
  mkdirSync(OUTPUT_DIR, { recursive: true });
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

describe('GET /', () => {
  it('serves the page to browsers and the JSON description to curl and JSON clients', async () => {
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('vary')).toMatch(/Accept/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<script type="module" src="assets/app.js">');

    for (const accept of ['*/*', 'application/json', undefined]) {
      const res = await fetch(`${server.url}/`, { headers: accept === undefined ? {} : { accept } });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ profile: 'JTS-S/v1', jwks: '/.well-known/jts-jwks' });
    }
  });

  it('serves the client module with revalidation headers', async () => {
    const res = await fetch(`${server.url}/assets/jts-client.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const etag = res.headers.get('etag');
    expect(etag).toBeTruthy();
    // node:http, because fetch() turns a conditional request into a Cache-Control: no-cache one.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`${server.url}/assets/jts-client.js`, { headers: { 'if-none-match': etag ?? '' } }, (reply) => {
        reply.resume();
        resolve(reply.statusCode);
      }).on('error', reject);
    });
    expect(status).toBe(304);
  });
});

describe('signing in with a browser', () => {
  it('shows the profile and keeps the StateProof out of reach of scripts, and a reload stays signed in', async () => {
    const context = await browser.newContext();
    const responses = recordResponses(context);
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    expect(await settledView(page)).toBe('auth');

    // (1) Sign in with the demo account hint: the profile is shown.
    await page.locator('[data-demo-email="user@example.com"]').click();
    const bearer = await bearerSentTo(page, '/api/profile', () => page.locator('#panel-sign-in button[type="submit"]').click());
    await page.locator('#profile-email', { hasText: 'user@example.com' }).waitFor();
    expect(await page.locator('#profile-name').textContent()).toBe('Demo User');
    expect(await page.locator('#profile-permissions').textContent()).toContain('read:profile');

    // The StateProof is an HttpOnly, SameSite=Strict cookie scoped to /jts ...
    const cookie = (await context.cookies()).find((c) => c.name === 'jts_state_proof');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/jts' });
    // ... that scripts cannot read, not even on a /jts page where the path would match.
    expect(await page.evaluate(() => document.cookie)).not.toContain('jts_state_proof');
    const jtsPage = await context.newPage();
    await jtsPage.goto(`${server.url}/jts/.well-known/jwks.json`);
    expect(await jtsPage.evaluate(() => document.cookie)).not.toContain('jts_state_proof');
    await jtsPage.close();
    // The BearerPass lives in memory only: not in Web Storage, not in any cookie.
    const storage = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)) + JSON.stringify(Object.entries(sessionStorage)));
    expect(storage).not.toContain(bearer);
    expect(JSON.stringify(await context.cookies())).not.toContain(bearer);

    // (2) Reload: the cookie survived, one silent renewal restores the session; no password asked.
    const before = responses.length;
    await page.reload();
    expect(await settledView(page)).toBe('dashboard');
    await page.locator('#profile-email', { hasText: 'user@example.com' }).waitFor();
    const afterReload = responses.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(afterReload).toContain('POST /jts/renew 200');
    expect(afterReload.some((line) => line.startsWith('POST /jts/login'))).toBe(false);
    expect(await page.locator('#view-auth').isVisible()).toBe(false);

    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows the 403 JTS-403-02 of the admin endpoint to a plain user and lets an admin in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    await settledView(page);
    await signIn(page, 'user@example.com', 'user123');
    await page.locator('#call-admin').click();
    const denied = page.locator('#admin-result.result--denied');
    await denied.waitFor();
    expect(await denied.textContent()).toMatch(/403 Forbidden · JTS-403-02/);
    expect(await denied.textContent()).toContain('admin:access');
    await page.locator('#status', { hasText: 'JTS-403-02' }).waitFor();

    await page.locator('#sign-out').click();
    await page.locator('#view-auth').waitFor();
    await signIn(page, 'admin@example.com', 'admin123');
    await page.locator('#call-admin').click();
    await page.locator('#admin-result.result--ok', { hasText: 'Welcome, administrator.' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lists the own sessions and revokes another one, which is signed out at its next call', async () => {
    const laptop = await browser.newContext();
    const phone = await browser.newContext({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' });
    const [laptopPage, phonePage] = await Promise.all([laptop.newPage(), phone.newPage()]);
    const errors = recordPageErrors(laptopPage);
    await laptopPage.goto(server.url);
    await settledView(laptopPage);
    const email = await registerThroughPage(laptopPage, 'Grace Hopper');
    await phonePage.goto(server.url);
    await settledView(phonePage);
    await signIn(phonePage, email, 'correct horse battery');

    await laptopPage.locator('#refresh-sessions').click();
    const rows = laptopPage.locator('#sessions > li');
    await waitForCount(rows, 2);
    expect(await laptopPage.locator('.session--current').textContent()).toContain('This tab');
    const phoneRow = laptopPage.locator('#sessions > li', { hasText: 'Safari on iOS' });
    await phoneRow.locator('button', { hasText: 'Revoke' }).click();
    await waitForCount(rows, 1);

    // The phone's BearerPass is refused at once (instant revocation): its next call signs it out.
    await phonePage.locator('#refresh-profile').click();
    await phonePage.locator('#view-auth').waitFor();
    await phonePage.locator('#status', { hasText: 'Your session has ended' }).waitFor();

    // "Sign out other sessions" ends every session but this one.
    await signIn(phonePage, email, 'correct horse battery');
    await laptopPage.locator('#refresh-sessions').click();
    await waitForCount(rows, 2);
    await laptopPage.locator('#revoke-others').click();
    await laptopPage.locator('#status', { hasText: 'Signed out 1 other session.' }).waitFor();
    await waitForCount(rows, 1);
    await phonePage.locator('#refresh-profile').click();
    await phonePage.locator('#view-auth').waitFor();

    expect(errors).toEqual([]);
    await Promise.all([laptop.close(), phone.close()]);
  });

  it('looks good signed in and signed out (screenshots in test-output/e2e)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const errors = recordPageErrors(page);
    await page.goto(server.url);
    await settledView(page);
    await page.screenshot({ path: join(OUTPUT_DIR, 'signed-out.png'), fullPage: true, animations: 'disabled' });

    await signIn(page, 'user@example.com', 'user123');
    await page.locator('#profile-email', { hasText: 'user@example.com' }).waitFor();
    await page.locator('#sessions > li').first().waitFor();
    await page.locator('#call-admin').click();
    await page.locator('#admin-result').waitFor();
    await page.screenshot({ path: join(OUTPUT_DIR, 'signed-in.png'), fullPage: true, animations: 'disabled' });

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(OUTPUT_DIR, 'signed-in-dark.png'), fullPage: true, animations: 'disabled' });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(OUTPUT_DIR, 'signed-in-mobile.png'), fullPage: true, animations: 'disabled' });
    expect(errors).toEqual([]);
    await context.close();
  });
});
