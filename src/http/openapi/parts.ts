import type { ErrorResponseName } from './components.js';

/** Small builders the path modules of the OpenAPI document share. */

export type Json = Record<string, unknown>;
export type Method = 'get' | 'post' | 'patch' | 'delete' | 'options';

export const ref = (kind: 'schemas' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });
export const json = (schema: Json) => ({ 'application/json': { schema } });
export const ok = (description: string, schema: Json, status = '200'): Json => ({ [status]: { description, content: json(schema) } });
export const errors = (...names: ErrorResponseName[]): Json => {
  const status: Record<ErrorResponseName, string> = {
    BadRequest: '400',
    Unauthorized: '401',
    Forbidden: '403',
    NotFound: '404',
    Conflict: '409',
    PayloadTooLarge: '413',
    UnsupportedMediaType: '415',
    TooManyRequests: '429',
    InternalError: '500',
    ServiceUnavailable: '503',
  };
  return Object.fromEntries(names.map((name) => [status[name], { $ref: `#/components/responses/${name}` }]));
};
export const body = (schema: string) => ({ required: true, content: json(ref('schemas', schema)) });
export const setsStateProof = { 'Set-Cookie': { schema: { type: 'string' }, description: 'jts_state_proof=…; HttpOnly; Secure; SameSite=Strict; Path=/jts' } };
export const bearer = [{ bearerPass: [] }];
export const bodyErrors = ['BadRequest', 'PayloadTooLarge', 'UnsupportedMediaType'] as const;

export function credentialsResponse(status: string, description: string, extraHeaders: Json = {}): Json {
  return { [status]: { description, headers: { ...setsStateProof, ...extraHeaders }, content: json(ref('schemas', 'Credentials')) } };
}

/** The known-device value a login gives native clients (browsers get it as a cookie). */
export const setsKnownDevice = {
  'X-JTS-Known-Device': {
    schema: { type: 'string' },
    description: 'Native clients (X-JTS-Device-ID sent): send it back in X-JTS-Known-Device on later logins, so that failures of others do not throttle this device.',
  },
};
