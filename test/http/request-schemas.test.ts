import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { openApiDocument } from '../../src/http/openapi/document';
import { buildTestApp, type TestApp } from '../support/test-app';
import { CSRF } from '../support/http';

type Json = Record<string, unknown>;
interface StringSchema {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

/**
 * The OpenAPI request schemas are generated from the zod schemas that parse the bodies
 * (src/http/fields.ts). These read the limits from the document and check that the server
 * enforces each one exactly where the document puts it.
 */
describe('the documented request limits are the enforced ones', () => {
  const components = openApiDocument({ issuer: 'http://localhost:3000', version: '0' }).components as { schemas: Record<string, { properties: Record<string, StringSchema>; required: string[] }>; parameters: Record<string, { schema: StringSchema }> };
  const register = components.schemas.RegisterRequest!.properties;
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const unique = () => randomBytes(4).toString('hex');
  const emailOfLength = (length: number) => {
    const domain = `@${unique()}.example.com`;
    return `${'a'.repeat(length - domain.length)}${domain}`;
  };
  const valid = (): Json => ({ email: emailOfLength(30), password: 'correct horse', name: 'Ada' });
  const registerWith = (patch: Json) => request(t.app).post('/jts/register').set(CSRF).send({ ...valid(), ...patch });

  it('documents every field the register body requires', () => {
    expect(components.schemas.RegisterRequest!.required.sort()).toEqual(['email', 'name', 'password']);
    expect(components.schemas.LoginRequest!.required.sort()).toEqual(['email', 'password']);
    expect(components.schemas.ChangePasswordRequest!.required.sort()).toEqual(['currentPassword', 'newPassword']);
  });

  it.each([
    ['email', (n: number) => emailOfLength(n)],
    ['name', (n: number) => 'n'.repeat(n)],
  ])('%s: its maxLength is accepted, one more is a 400 naming it', async (field, valueOfLength) => {
    const max = register[field]!.maxLength!;
    expect((await registerWith({ [field]: valueOfLength(max) })).status).toBe(201);
    const over = await registerWith({ [field]: valueOfLength(max + 1) });
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(new RegExp(`^\`${field}\` must be at most ${max} characters$`)) });
  });

  it('name: below its minLength (after trimming) is a 400', async () => {
    expect(register.name!.minLength).toBe(1);
    expect((await registerWith({ name: '  ' })).status).toBe(400);
  });

  it('password: the documented minLength of a new password is the policy the server applies', async () => {
    const min = register.password!.minLength!;
    expect((await registerWith({ password: 'p'.repeat(min) })).status).toBe(201);
    expect((await registerWith({ password: 'p'.repeat(min - 1) })).status).toBe(400);
    expect(components.schemas.ChangePasswordRequest!.properties.newPassword!.minLength).toBe(min);
  });

  it('password: beyond its maxLength is a 400 naming it, at login too', async () => {
    const max = components.schemas.LoginRequest!.properties.password!.maxLength!;
    expect(register.password!.maxLength).toBe(max);
    const res = await request(t.app).post('/jts/login').set(CSRF).send({ email: emailOfLength(30), password: 'p'.repeat(max + 1) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ message: `\`password\` must be at most ${max} characters` });
  });

  it('token and mfa_ticket: beyond their maxLength is a 400 in the same words', async () => {
    const max = components.schemas.ResetPasswordRequest!.properties.token!.maxLength!;
    const reset = await request(t.app).post('/jts/password/reset').set(CSRF).send({ token: 't'.repeat(max + 1), newPassword: 'a long enough password' });
    expect(reset.body).toMatchObject({ error: 'invalid_request', message: `\`token\` must be at most ${max} characters` });
    const mfa = await request(t.app).post('/jts/mfa/verify').set(CSRF).send({ mfa_ticket: 't'.repeat(max + 1), code: '123456' });
    expect(mfa.body).toMatchObject({ error: 'invalid_request', message: `\`mfa_ticket\` must be at most ${max} characters` });
  });

  it('X-JTS-Device-ID: what the documented schema refuses, the server refuses', async () => {
    const schema = components.parameters.DeviceId!.schema;
    const pattern = new RegExp(schema.pattern!);
    for (const deviceId of ['d'.repeat(schema.maxLength!), 'd'.repeat(schema.maxLength! + 1), 'has space', 'tab\there', 'ünïcode', '!~']) {
      const documented = deviceId.length <= schema.maxLength! && pattern.test(deviceId);
      const res = await request(t.app).post('/jts/register').set(CSRF).set('X-JTS-Device-ID', deviceId).send(valid());
      expect({ deviceId, accepted: res.status === 201 }).toEqual({ deviceId, accepted: documented });
    }
  });
});
