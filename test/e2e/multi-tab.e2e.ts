import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bearerSentTo, launchChromium, recordPageErrors, recordResponses, registerThroughPage, settledView, withClient, type SeenResponse } from './support/browser';
import { OUTPUT_DIR, startServer, type E2eServer } from './support/server';

/** BearerPasses live 3 s here, so 30 s of calls need about a dozen renewals shared by two tabs. */
const LIFETIME_SECONDS = 3;
const RUN_MS = 30_000;

let server: E2eServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer('multi-tab', { JTS_BEARER_PASS_LIFETIME: String(LIFETIME_SECONDS) }), launchChromium()]);
});

afterAll(async () => {
  await browser.close();
  await server.stop();
});

interface LoopResult {
  calls: number;
  statuses: Record<string, number>;
  errors: string[];
}

/** Calls GET /api/profile through the page's client every 150–250 ms for `ms`. */
function keepCalling(page: Page, ms: number): Promise<LoopResult> {
  return withClient<LoopResult>(
    page,
    `const result = { calls: 0, statuses: {}, errors: [] };
     const end = Date.now() + ${ms};
     while (Date.now() < end) {
       try {
         const res = await client.fetch('/api/profile');
         result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
       } catch (error) {
         result.errors.push(String(error));
       }
       result.calls += 1;
       await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 100));
     }
     return result;`,
  );
}

async function twoTabs(): Promise<{ context: BrowserContext; first: Page; second: Page; responses: SeenResponse[]; errors: string[] }> {
  const context = await browser.newContext();
  const responses = recordResponses(context);
  const first = await context.newPage();
  const second = await context.newPage();
  const errors = [...[first, second].map(recordPageErrors)];
  await first.goto(server.url);
  await settledView(first);
  await registerThroughPage(first, 'Katherine Johnson');
  // The second tab has no BearerPass of its own: it renews with the shared cookie on load.
  await second.goto(server.url);
  expect(await settledView(second)).toBe('dashboard');
  return { context, first, second, responses, errors: errors.flat() };
}

describe('two tabs of one browser', () => {
  it(`both keep working for ${RUN_MS / 1000} s with ${LIFETIME_SECONDS} s BearerPasses, never trip replay detection, and share one session`, async () => {
    const { context, first, second, responses, errors } = await twoTabs();

    const startedAt = responses.length;
    const [a, b] = await Promise.all([keepCalling(first, RUN_MS), keepCalling(second, RUN_MS)]);

    const during = responses.slice(startedAt);
    const renewals = during.filter((r) => r.path === '/jts/renew');
    const summary = {
      calls: { first: a.calls, second: b.calls },
      statuses: { first: a.statuses, second: b.statuses },
      thrown: [...a.errors, ...b.errors],
      renewals: renewals.length,
      renewalStatuses: renewals.map((r) => r.status),
      msBetweenRenewals: renewals.slice(1).map((r, i) => r.at - (renewals[i]?.at ?? 0)),
      expired: during.filter((r) => r.code === 'JTS-401-01').length,
      failures: during.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.path} ${r.status} ${r.code ?? ''}`),
    };
    writeFileSync(join(OUTPUT_DIR, 'multi-tab.json'), `${JSON.stringify(summary, null, 2)}\n`);

    expect(summary.thrown).toEqual([]);
    expect(Object.keys(a.statuses)).toEqual(['200']);
    expect(Object.keys(b.statuses)).toEqual(['200']);
    // Each tab kept calling through every BearerPass lifetime (a call about every 0.2 s when idle; CI
    // under load once made 143 in all, so the floor counts calls per lifetime, not the machine's speed).
    expect(Math.min(a.calls, b.calls)).toBeGreaterThan((RUN_MS / (LIFETIME_SECONDS * 1000)) * 4);
    expect(summary.failures).toEqual([]);
    expect(responses.filter((r) => r.code === 'JTS-401-05')).toEqual([]);
    expect(renewals.every((r) => r.status === 200)).toBe(true);
    // Renewal really happened all along (30 s / 2.4 s ≈ 12), and the tabs shared it instead of
    // each renewing on its own (which would be about twice as many).
    expect(renewals.length).toBeGreaterThanOrEqual(10);
    expect(renewals.length).toBeLessThanOrEqual(16);

    const sessions = await withClient<{ aid: string; current: boolean }[]>(first, `const res = await client.fetch('/jts/sessions'); return (await res.json()).sessions;`);
    expect(sessions).toHaveLength(1);
    await first.locator('#refresh-sessions').click();
    await first.locator('#sessions > li').first().waitFor();
    expect(await first.locator('#sessions > li').count()).toBe(1);
    expect(await first.locator('#view-dashboard').isVisible()).toBe(true);
    expect(await second.locator('#view-dashboard').isVisible()).toBe(true);

    // Signing out in one tab signs the other out as well, and its BearerPass is dead on the server.
    const secondBearer = await bearerSentTo(second, '/api/profile', () => second.locator('#refresh-profile').click());
    await first.locator('#sign-out').click();
    await first.locator('#view-auth').waitFor();
    await second.locator('#view-auth').waitFor({ timeout: 5000 });
    await second.locator('#status', { hasText: 'You signed out in another tab.' }).waitFor();
    const reused = await fetch(`${server.url}/api/profile`, { headers: { authorization: `Bearer ${secondBearer}` } });
    expect(reused.status).toBe(401);
    expect(await reused.json()).toMatchObject({ error_code: 'JTS-401-04' });
    // Its next call finds no session (the cookie was cleared), so the client refuses to make it.
    expect(await withClient<string>(second, `try { await client.fetch('/api/profile'); return 'sent'; } catch (error) { return error.name; }`)).toBe('SignedOutError');

    expect(errors).toEqual([]);
    await context.close();
  });

  it('a session revoked elsewhere is noticed by the next call of any tab and ends in every tab', async () => {
    const { context, first, second, errors } = await twoTabs();
    const bearer = await bearerSentTo(first, '/api/profile', () => first.locator('#refresh-profile').click());
    const claims = JSON.parse(Buffer.from(bearer.split('.')[1] ?? '', 'base64url').toString()) as { aid: string };

    // Revoked from outside the browser (another device, an administrator): no broadcast reaches the tabs.
    const revoked = await fetch(`${server.url}/jts/sessions/${claims.aid}`, { method: 'DELETE', headers: { authorization: `Bearer ${bearer}`, 'x-jts-request': '1' } });
    expect(revoked.status).toBe(200);
    expect(await second.locator('#view-dashboard').isVisible()).toBe(true);

    await second.locator('#refresh-profile').click();
    await second.locator('#view-auth').waitFor();
    await second.locator('#status', { hasText: 'Your session has ended' }).waitFor();
    await first.locator('#view-auth').waitFor({ timeout: 5000 });

    expect(errors).toEqual([]);
    await context.close();
  });
});
