import { randomBytes } from 'node:crypto';

/** One HTTP answer, read whole. `status` 0 means no answer at all (refused, reset, timed out). */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** The jts_state_proof cookie the answer set, if any. */
  stateProof: string | undefined;
  headers: Headers | undefined;
  ms: number;
}

export const CSRF = { 'x-jts-request': '1' };

export async function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {}): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      body = { unparsable: text.slice(0, 200) };
    }
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('jts_state_proof=') && !c.startsWith('jts_state_proof=;'));
    return { status: res.status, body, stateProof: cookie?.slice('jts_state_proof='.length).split(';')[0], headers: res.headers, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, body: { error: (error as Error).name, message: (error as Error).message }, stateProof: undefined, headers: undefined, ms: performance.now() - started };
  }
}

export interface Creds {
  bearerPass: string;
  stateProof: string;
}

function credsOf(answer: Answer, what: string): Creds {
  const bearerPass = answer.body.bearerPass;
  if ((answer.status !== 200 && answer.status !== 201) || typeof bearerPass !== 'string' || answer.stateProof === undefined) {
    throw new Error(`${what} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return { bearerPass, stateProof: answer.stateProof };
}

export function newAccount(): { email: string; password: string } {
  return { email: `r${randomBytes(6).toString('hex')}@example.com`, password: 'correct horse battery staple' };
}

export async function register(base: string, account: { email: string; password: string }): Promise<Creds> {
  return credsOf(await call(base, '/jts/register', { method: 'POST', headers: CSRF, body: { ...account, name: 'Reliability' } }), 'register');
}

export function loginCall(base: string, account: { email: string; password: string }): Promise<Answer> {
  return call(base, '/jts/login', { method: 'POST', headers: CSRF, body: account });
}

export async function login(base: string, account: { email: string; password: string }): Promise<Creds> {
  return credsOf(await loginCall(base, account), 'login');
}

export function renewCall(base: string, stateProof: string, timeoutMs?: number): Promise<Answer> {
  return call(base, '/jts/renew', { method: 'POST', headers: { ...CSRF, cookie: `jts_state_proof=${stateProof}` }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export async function renew(base: string, stateProof: string): Promise<Creds> {
  return credsOf(await renewCall(base, stateProof), 'renew');
}

export function profileCall(base: string, bearerPass: string, timeoutMs?: number): Promise<Answer> {
  return call(base, '/api/profile', { headers: { authorization: `Bearer ${bearerPass}` }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

export function logoutCall(base: string, stateProof: string): Promise<Answer> {
  return call(base, '/jts/logout', { method: 'POST', headers: { ...CSRF, cookie: `jts_state_proof=${stateProof}` } });
}

export const sleep = (ms: number) =>
  new Promise<void>((done) => {
    setTimeout(done, ms);
  });
