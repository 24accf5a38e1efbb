import request from 'supertest';
import { loadConfig } from '../../src/config/load';
import { buildTestApp, type TestApp } from '../support/test-app';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Issue 14 item 12: DEMO_PAGE turns the page off, and the description says whether demo users exist. */
describe('DEMO_PAGE', () => {
  it('defaults to off in production and on elsewhere, and takes only on or off', () => {
    const production = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u@db/x', CORS_ORIGINS: 'none', SMTP_URL: 'smtp://127.0.0.1:2525', MAIL_FROM: 'Auth <no-reply@example.com>' };
    expect(loadConfig(production).demoPage).toBe(false);
    expect(loadConfig({ ...production, DEMO_PAGE: 'on' }).demoPage).toBe(true);
    expect(loadConfig({}).demoPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).demoPage).toBe(true);
    expect(loadConfig({ DEMO_PAGE: 'off' }).demoPage).toBe(false);
    expect(() => loadConfig({ DEMO_PAGE: 'yes' })).toThrow(/DEMO_PAGE="yes"/);
  });

  describe('off', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp({ env: { DEMO_PAGE: 'off' } });
    });
    afterAll(async () => {
      await t.close();
    });

    it('answers / with the JSON description even to a browser, never HTML', async () => {
      const res = await request(t.app).get('/').set('Accept', BROWSER_ACCEPT).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ profile: 'JTS-S/v1', demoUsers: false });
      expect(res.text).not.toContain('<');
    });

    it.each(['/assets/app.js', '/assets/styles.css', '/assets/favicon.svg', '/index.html'])('serves no %s (JSON 404)', async (path) => {
      const res = await request(t.app).get(path).set('Accept', BROWSER_ACCEPT).expect(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
    });
  });

  describe('on', () => {
    it.each([
      ['true', true],
      ['false', false],
    ] as const)('serves the page to browsers, and JTS_DEMO_USERS=%s is demoUsers %s in the description', async (demoUsers, expected) => {
      const t = await buildTestApp({ env: { DEMO_PAGE: 'on', JTS_DEMO_USERS: demoUsers } });
      try {
        const page = await request(t.app).get('/').set('Accept', BROWSER_ACCEPT).expect(200);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        // The hint is hidden until the page learns demo users exist.
        expect(page.text).toMatch(/<aside class="demo-hint" id="demo-hint"[^>]* hidden>/);
        const description = await request(t.app).get('/').set('Accept', 'application/json').expect(200);
        expect(description.body).toMatchObject({ demoUsers: expected });
        await request(t.app).get('/assets/styles.css').expect(200);
      } finally {
        await t.close();
      }
    });
  });
});
