import request from 'supertest';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';
import { login } from '../support/http';

describe('JSON answers (sendJson)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('carry the JSON content type and a Content-Length in bytes, not characters', async () => {
    const user = await createUser(t, { name: 'Zoë Ångström 日本' });
    const { bearerPass } = await login(t.app, user.email, user.password);
    const res = await request(t.app).get('/api/profile').set('Authorization', `Bearer ${bearerPass}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.text.length).toBeLessThan(Buffer.byteLength(res.text));
    expect((res.body as { name: string }).name).toBe('Zoë Ångström 日本');
  });

  it.each(['/api/public', '/api/nowhere'])('answer HEAD %s with the GET headers and no body', async (path) => {
    const get = await request(t.app).get(path);
    const head = await request(t.app).head(path);
    expect(head.status).toBe(get.status);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(Number(get.headers['content-length'])).toBeGreaterThan(0);
    expect(head.text).toBeUndefined();
  });

  it('send errors the same way, with their status', async () => {
    const res = await request(t.app).get('/api/profile');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.body).toMatchObject({ error_code: 'JTS-401-03' });
  });
});
