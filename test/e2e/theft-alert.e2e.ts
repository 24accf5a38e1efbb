import type { Browser } from 'playwright-core';
import { launchChromium, recordPageErrors, settledView, signIn } from './support/browser';
import { startServer, type E2eServer } from './support/server';

/** Issue 21: the demo page shows a session a replay ended as "Ended: token theft detected". */
let server: E2eServer | undefined;
let browser: Browser | undefined;

const GRACE_SECONDS = 5;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

beforeAll(async () => {
  server = await startServer('theft-alert', { JTS_ROTATION_GRACE: String(GRACE_SECONDS) });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** POSTs to the server as a non-browser client would, with the StateProof cookie when given. */
async function post(path: string, body: unknown, stateProof?: string): Promise<Response> {
  if (!server) throw new Error('the server did not start');
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-jts-request': '1', 'user-agent': FIREFOX, ...(stateProof ? { cookie: `jts_state_proof=${stateProof}` } : {}) },
    body: JSON.stringify(body),
  });
}

function stateProofOf(res: Response): string {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('jts_state_proof=') && !c.startsWith('jts_state_proof=;'));
  const value = cookie?.slice('jts_state_proof='.length).split(';')[0];
  if (!value) throw new Error(`no StateProof set (${String(res.status)})`);
  return value;
}

it('lists the session a replayed StateProof ended as "Ended: token theft detected"', async () => {
  // A session on "another device" whose first StateProof is copied, then used again after its grace window.
  const login = await post('/jts/login', { email: 'user@example.com', password: 'user123' });
  expect(login.status).toBe(200);
  const stolen = stateProofOf(login);
  expect((await post('/jts/renew', {}, stolen)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, (GRACE_SECONDS + 1) * 1000));
  const replay = await post('/jts/renew', {}, stolen);
  expect(replay.status).toBe(401);
  expect(((await replay.json()) as { error_code: string }).error_code).toBe('JTS-401-05');

  if (!browser || !server) throw new Error('the server or the browser did not start');
  const page = await (await browser.newContext()).newPage();
  const errors = recordPageErrors(page);
  await page.goto(server.url);
  await settledView(page);
  await signIn(page, 'user@example.com', 'user123');
  // The record is written just after the 401 is answered; Refresh until it is listed.
  const ended = page.locator('#sessions .session--ended');
  for (let tries = 0; tries < 20 && (await ended.count()) === 0; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await page.locator('#refresh-sessions').click();
    await page.waitForLoadState('networkidle');
  }
  await ended.first().waitFor({ state: 'visible', timeout: 10_000 });
  expect(await ended.locator('[data-field="reason"]').textContent()).toBe('Ended: token theft detected');
  expect(await ended.locator('[data-field="device"]').textContent()).toBe('Firefox on Linux');
  // The live session of this tab is listed as before, with its own button; the ended one has none.
  expect(await page.locator('#sessions .session--current').count()).toBe(1);
  expect(await ended.locator('button').count()).toBe(0);
  expect(errors).toEqual([]);
  await page.context().close();
});
