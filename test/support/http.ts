import request from 'supertest';
import type { App } from 'supertest/types';

export const CSRF = { 'x-jts-request': '1' } as const;

export interface Credentials {
  bearerPass: string;
  stateProof: string;
}

/** The jts_state_proof value a response set, if any. */
export function stateProofFrom(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = cookies.find((c) => c.startsWith('jts_state_proof=') && !c.startsWith('jts_state_proof=;'));
  return cookie?.slice('jts_state_proof='.length).split(';')[0];
}

export async function login(app: App, email: string, password: string, headers: Record<string, string> = {}): Promise<Credentials> {
  const res = await request(app).post('/jts/login').set(CSRF).set(headers).send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const stateProof = stateProofFrom(res);
  if (!stateProof) throw new Error('login set no StateProof cookie');
  return { bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof };
}

export function renew(app: App, stateProof: string) {
  return request(app).post('/jts/renew').set(CSRF).set('Cookie', `jts_state_proof=${stateProof}`);
}

/** Renews and returns the new credentials; fails the test on anything but 200. */
export async function renewOk(app: App, stateProof: string): Promise<Credentials> {
  const res = await renew(app, stateProof);
  if (res.status !== 200) throw new Error(`renew failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { bearerPass: (res.body as { bearerPass: string }).bearerPass, stateProof: stateProofFrom(res) ?? '' };
}

export function profile(app: App, bearerPass: string) {
  return request(app).get('/api/profile').set('Authorization', `Bearer ${bearerPass}`);
}

/** The `jts_known_device=…` cookie an answer set, ready for a Cookie header; undefined when none. */
export function knownDeviceOf(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('jts_known_device='))?.split(';')[0];
}
