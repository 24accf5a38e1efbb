import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';

/** Debian's chromium (apt-get install chromium), headless, no sandbox (CI runs as root), quiet network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface SeenResponse {
  method: string;
  path: string;
  status: number;
  /** When the response arrived (epoch ms). */
  at: number;
  /** `error_code` (or the plain `error` key) of an error body. */
  code: string | undefined;
}

/** Records every /jts and /api response of a context (all its pages), with the error code of failures. */
export function recordResponses(context: BrowserContext): SeenResponse[] {
  const seen: SeenResponse[] = [];
  context.on('response', (response: Response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/jts/') && !url.pathname.startsWith('/api/')) return;
    const entry: SeenResponse = { method: response.request().method(), path: url.pathname, status: response.status(), at: Date.now(), code: undefined };
    seen.push(entry);
    if (entry.status >= 400) {
      response.json().then(
        (body: { error_code?: string; error?: string }) => {
          entry.code = body.error_code ?? body.error;
        },
        () => undefined,
      );
    }
  });
  return seen;
}

/**
 * Console errors and uncaught exceptions of a page. A CSP violation shows up here as
 * "Refused to …"; failed HTTP responses (the 401s and 403s the tests provoke) are not errors.
 */
export function recordPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

export type View = 'auth' | 'dashboard';

/** Waits until the page has settled on the sign-in view or the signed-in view and returns which. */
export async function settledView(page: Page): Promise<View> {
  await page.locator('#view-auth:visible, #view-dashboard:visible').first().waitFor({ timeout: 15_000 });
  return (await page.locator('#view-dashboard').isVisible()) ? 'dashboard' : 'auth';
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.locator('#tab-sign-in').click();
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await page.locator('#panel-sign-in button[type="submit"]').click();
  await page.locator('#view-dashboard').waitFor({ state: 'visible' });
}

let users = 0;

/** Creates an account through the page's own form; returns its email. */
export async function registerThroughPage(page: Page, name = 'Ada Lovelace'): Promise<string> {
  users += 1;
  const email = `e2e-${process.pid}-${users}-${Date.now().toString(36)}@example.com`;
  await page.locator('#tab-register').click();
  await page.locator('#register-name').fill(name);
  await page.locator('#register-email').fill(email);
  await page.locator('#register-password').fill('correct horse battery');
  await page.locator('#panel-register button[type="submit"]').click();
  await page.locator('#view-dashboard').waitFor({ state: 'visible' });
  await page.locator('#profile-email', { hasText: email }).waitFor();
  return email;
}

/**
 * Runs `body` inside the page with the page's own JtsClient instance in scope as `client`.
 * The page script is an ES module: importing it again returns the same instance. The code is
 * passed as text because the test files are compiled to CommonJS, which would rewrite `import()`.
 */
export function withClient<T>(page: Page, body: string): Promise<T> {
  return page.evaluate<T>(`(async () => { const { client } = await import('/assets/app.js'); ${body} })()`);
}

/** The BearerPass the page sent with its most recent call to `path`. */
export async function bearerSentTo(page: Page, path: string, trigger: () => Promise<unknown>): Promise<string> {
  const [request] = await Promise.all([page.waitForRequest((req) => new URL(req.url()).pathname === path && req.headers().authorization !== undefined), trigger()]);
  return (request.headers().authorization ?? '').replace(/^Bearer /, '');
}

/** Waits until `locator` matches exactly `count` elements. */
export async function waitForCount(locator: Locator, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = await locator.count();
  while (seen !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} elements for ${String(locator)}, found ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen = await locator.count();
  }
}
