import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { CSRF, login } from '../support/http';
import { buildTestApp, createUser, type TestApp } from '../support/test-app';

/**
 * Issue 14, item 9: every 4xx message names its actual cause — the header, the encoding, the
 * charset, the size, the JSON or the URL — never another one.
 */
describe('a 4xx names its actual cause', () => {
  let t: TestApp;
  let bearerPass: string;
  beforeAll(async () => {
    t = await buildTestApp();
    const user = await createUser(t);
    ({ bearerPass } = await login(t.app, user.email, user.password));
  });
  afterAll(async () => {
    await t.close();
  });

  const LOGIN = JSON.stringify({ email: 'someone@example.com', password: 'correct horse battery' });
  const post = (path: string) => request(t.app).post(path).set(CSRF);
  /** The bytes as they are: superagent would serialise a Buffer sent as application/json. */
  const postBytes = (headers: Record<string, string>, bytes: Buffer) => {
    const req = post('/jts/login').set(headers);
    req.write(bytes);
    return req;
  };

  it.each(['/jts/login', '/jts/register', '/jts/password'])('answers a JSON body to %s without Content-Type with 415 naming the missing header', async (path) => {
    const res = await post(path).set('Authorization', `Bearer ${bearerPass}`).send(Buffer.from(LOGIN));
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: 'unsupported_media_type', message: 'The Content-Type header is missing; send the body as application/json.', action: 'none', timestamp: expect.any(Number) as number });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx'])('answers a login body sent as %s with 415 naming that type', async (type) => {
    const res = await post('/jts/login').set('Content-Type', type).send(LOGIN);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type', message: `The Content-Type ${JSON.stringify(type.split(';')[0])} is not supported; send the body as application/json.` });
  });

  it('still calls an empty JSON body what it is: not a JSON object (400)', async () => {
    const res = await post('/jts/login').set('Content-Type', 'application/json').send('[]');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The body must be a JSON object.' });
    const none = await post('/jts/login');
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ error: 'invalid_request', message: 'The body must be a JSON object.' });
  });

  it.each([
    ['br', Buffer.from(LOGIN)],
    ['gzip', Buffer.from(LOGIN)],
    ['gzip', gzipSync(LOGIN).subarray(0, 15)],
    ['gzip', Buffer.concat([gzipSync(LOGIN).subarray(0, 12), Buffer.from('garbage garbage garbage')])],
    ['deflate', Buffer.from(LOGIN)],
    ['GZIP', Buffer.from('not gzip at all')],
  ])('answers a body that does not decode as Content-Encoding: %s with 400 naming the encoding, not the URL', async (encoding, body) => {
    const res = await postBytes({ 'Content-Type': 'application/json', 'Content-Encoding': encoding }, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: `The body is not valid "${encoding.toLowerCase()}" data, as its Content-Encoding says.` });
  });

  it('decodes a well-formed gzip body (the encoding is supported)', async () => {
    const res = await postBytes({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync(LOGIN));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_credentials' });
  });

  it.each(['compress', 'x-custom', 'zstd, gzip'])('answers Content-Encoding: %s with 415 naming the encoding', async (encoding) => {
    const res = await post('/jts/login').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send(LOGIN);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type', message: `The Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body uncompressed, or as gzip, deflate or br.` });
  });

  it('answers an unsupported charset with 415 naming the charset', async () => {
    const res = await post('/jts/login').set('Content-Type', 'application/json; charset=klingon').send(LOGIN);
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'unsupported_media_type', message: 'The charset "klingon" is not supported; send the body as UTF-8.' });
  });

  it('answers a body over BODY_LIMIT with 413 naming the limit', async () => {
    const res = await post('/jts/login').send({ email: 'a@example.com', password: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large', message: 'The request body is too large (the limit is 16384 bytes).' });
  });

  it('answers malformed JSON with 400 naming the JSON', async () => {
    const res = await post('/jts/login').set('Content-Type', 'application/json').send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The body is not valid JSON.' });
  });

  it('calls the URL malformed only when it is: a bad percent-encoding in a path parameter', async () => {
    const res = await request(t.app).delete('/jts/sessions/%E0%A4%A').set(CSRF).set('Authorization', `Bearer ${bearerPass}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', message: 'The request URL is malformed (bad percent-encoding).' });
  });
});
