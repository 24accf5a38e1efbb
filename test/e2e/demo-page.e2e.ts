import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors, settledView, signIn } from './support/browser';
import { startServer, type E2eServer } from './support/server';

/** Issue 14 item 12: the demo page offers demo accounts only when they exist, and shows the server's own errors. */
let withDemo: E2eServer | undefined;
let withoutDemo: E2eServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  // One after the other: each server's embedded PGlite start is CPU-bound.
  withDemo = await startServer('demo-page-with');
  withoutDemo = await startServer('demo-page-without', { JTS_DEMO_USERS: 'false' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([withDemo?.stop(), withoutDemo?.stop()]);
});

async function open(server: E2eServer | undefined): Promise<Page> {
  if (!server || !browser) throw new Error('the servers or the browser did not start');
  const page = await (await browser.newContext()).newPage();
  await page.goto(server.url);
  await settledView(page);
  return page;
}

/**
 * Sends the page's requests to `path` to the real server with a foreign Origin, and hands the
 * page the server's real answer (403 csrf_origin). Chromium does not let a route rewrite Origin
 * on the way out, so the request is replayed from Node and its answer fulfilled.
 */
async function fromForeignOrigin(page: Page, path: string): Promise<void> {
  await page.route(`**${path}`, async (route) => {
    const request = route.request();
    const body = request.postData();
    const answer = await fetch(request.url(), { method: request.method(), headers: { ...request.headers(), origin: 'https://evil.example' }, ...(body === null ? {} : { body }) });
    expect(answer.status).toBe(403);
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name] = value;
    });
    await route.fulfill({ status: answer.status, headers, body: await answer.text() });
  });
}

describe('the demo accounts hint', () => {
  it('is shown, with a working "Use" button, when the server says demo users exist', async () => {
    const page = await open(withDemo);
    await page.locator('#demo-hint').waitFor({ state: 'visible' });
    await page.locator('[data-demo-email="admin@example.com"]').click();
    await page.locator('#panel-sign-in button[type="submit"]').click();
    await page.locator('#view-dashboard').waitFor({ state: 'visible' });
    await page.context().close();
  });

  it('stays hidden, with no demo password visible, when there are none', async () => {
    const page = await open(withoutDemo);
    const description = (await (await fetch(`${withoutDemo!.url}/`, { headers: { accept: 'application/json' } })).json()) as { demoUsers: boolean };
    expect(description.demoUsers).toBe(false);
    // The page asked the server by now (same request as above); the hint never turns visible.
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#demo-hint').isVisible()).toBe(false);
    expect(await page.locator('text=admin123').isVisible()).toBe(false);
    await page.context().close();
  });
});

describe('failed calls show the server\'s message', () => {
  it('a sign-in refused with 403 csrf_origin says so, not "could not be reached"', async () => {
    const page = await open(withDemo);
    await fromForeignOrigin(page, '/jts/login');
    await page.locator('#login-email').fill('admin@example.com');
    await page.locator('#login-password').fill('admin123');
    await page.locator('#panel-sign-in button[type="submit"]').click();
    const error = page.locator('#login-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('The request origin is not allowed.');
    await page.context().close();
  });

  it('a sign-out refused with 403 csrf_origin says so and keeps the user signed in', async () => {
    const page = await open(withDemo);
    const errors = recordPageErrors(page);
    await signIn(page, 'user@example.com', 'user123');
    await fromForeignOrigin(page, '/jts/logout');
    await page.locator('#sign-out').click();
    const status = page.locator('#status', { hasText: 'Sign-out failed' });
    await status.waitFor({ state: 'visible' });
    const text = (await status.textContent()) ?? '';
    expect(text).toContain('The request origin is not allowed.');
    expect(text).not.toContain('could not be reached');
    expect(await page.locator('#view-dashboard').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('only a network failure says the server could not be reached', async () => {
    const page = await open(withDemo);
    await page.route('**/jts/login', (route) => route.abort('connectionrefused'));
    await page.locator('#login-email').fill('admin@example.com');
    await page.locator('#login-password').fill('admin123');
    await page.locator('#panel-sign-in button[type="submit"]').click();
    const error = page.locator('#login-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toContain('could not be reached');
    await page.context().close();
  });
});
