import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors } from './support/browser';
import { OUTPUT_DIR, startServer, type E2eServer } from './support/server';

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer('docs'), launchChromium()]);
  mkdirSync(OUTPUT_DIR, { recursive: true });
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

describe('/docs in a browser', () => {
  it('renders every operation of the OpenAPI document, within the page CSP, loading nothing from elsewhere', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.length).toBeGreaterThan(25);

    const context = await browser.newContext();
    const loads: { url: string; status: number }[] = [];
    context.on('response', (response) => loads.push({ url: response.url(), status: response.status() }));
    const elsewhere: string[] = [];
    context.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
    const page = await context.newPage();
    // CSP violations arrive as console errors: any would fail here.
    const errors = recordPageErrors(page);
    await page.goto(`${server.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(OUTPUT_DIR, 'docs.png'), fullPage: false });

    const rendered = await page.locator('.opblock-summary').evaluateAll((blocks) =>
      blocks.map((block) => `${block.querySelector('.opblock-summary-method')?.textContent ?? ''} ${block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? ''}`),
    );
    expect(rendered.sort()).toEqual(operations.sort());
    await expect(page.locator('.info .title').first().textContent()).resolves.toContain('JTS auth server');
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
    expect(loads.filter((load) => load.status >= 400)).toEqual([]);
    expect(loads.map((load) => new URL(load.url).pathname)).toEqual(expect.arrayContaining(['/docs', '/docs/assets/swagger-ui-bundle.js', '/openapi.json']));
    await context.close();
  });
});
