import { CLIENT_ID_PATTERN, MAX_ROTATION_GRACE_SECONDS } from '../../auth/client-admin.js';
import { createClientBody, rotateSecretBody, updateClientBody } from '../client-bodies.js';
import { requestSchema } from './components.js';
import { bearer, bodyErrors, errors, json, ok, ref, type Json, type Method } from './parts.js';

/**
 * The /admin/clients endpoints of the OpenAPI document (README "For services"). Every one needs a
 * BearerPass whose account holds admin:clients now (401 without a valid one, 403 JTS-403-02
 * without the permission), reads PostgreSQL (503 while it is down) and may meet an unknown id (404).
 * Its schemas live here rather than in components.ts, next to the routes they describe.
 */
export function adminClientPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: CLIENT_ID_PATTERN.source }, description: 'The client id; an unknown one is 404 `not_found`, a malformed one 400.' };
  const instant = { type: 'string', format: 'date-time' };
  const client: Json = {
    type: 'object',
    required: ['id', 'audience', 'scopes', 'disabled', 'previousSecretExpiresAt', 'createdAt', 'updatedAt'],
    additionalProperties: false,
    description: 'A service client: never its secret or a hash of it.',
    properties: {
      id: { type: 'string' },
      audience: { type: 'string', format: 'uri', description: 'The `aud` of its tokens and its name as a token-exchange target.' },
      scopes: { type: 'array', items: { type: 'string' } },
      disabled: { type: 'boolean' },
      previousSecretExpiresAt: { type: ['string', 'null'], format: 'date-time', description: 'While a rotation is open, until when the previous secret stays valid; null when only one secret is valid.' },
      createdAt: instant,
      updatedAt: instant,
    },
  };
  const one = { type: 'object', required: ['client'], properties: { client } };
  const withSecret = {
    type: 'object',
    required: ['client', 'clientSecret'],
    properties: {
      client,
      clientSecret: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'Shown this once (32 random bytes, base64url); only its SHA-256 is kept. Use it with HTTP Basic at /jts/token and /jts/introspect.' },
    },
  };
  const requestBody = (schema: Json, required = true) => ({ required, content: json(schema) });
  const created = (description: string) => ({
    '201': { description, headers: { Location: { schema: { type: 'string' }, description: '/admin/clients/{id}' } }, content: json(withSecret) },
  });
  const tags = ['admin'];
  const admin = 'Needs admin:clients, held by the caller’s account now (a demoted administrator’s BearerPass is refused at once). Audited as `admin.action`.';
  const seenAt = 'This instance sees the change at once; other instances within JTS_CLIENTS_REFRESH.';
  return {
    '/admin/clients': {
      get: {
        operationId: 'listClients',
        tags,
        summary: 'List the service clients',
        description: `${admin} Ordered by id.`,
        security: bearer,
        responses: { ...ok('Every client.', { type: 'object', required: ['clients'], properties: { clients: { type: 'array', items: client } } }), ...errors('Unauthorized', 'Forbidden', 'ServiceUnavailable') },
      },
      post: {
        operationId: 'registerClient',
        tags,
        summary: 'Register a service client; its secret is in this answer only',
        description: `${admin} The audience must be unique and must not be this server’s own JTS_AUDIENCE (400). ${seenAt}`,
        security: bearer,
        parameters: [csrf],
        requestBody: requestBody(requestSchema(createClientBody)),
        responses: { ...created('Registered.'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'Conflict', 'ServiceUnavailable') },
      },
    },
    '/admin/clients/{id}': {
      get: {
        operationId: 'getClient',
        tags,
        summary: 'Read one service client',
        description: admin,
        security: bearer,
        parameters: [id],
        responses: { ...ok('The client.', one), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
      patch: {
        operationId: 'updateClient',
        tags,
        summary: 'Disable or enable a client, or change its scopes',
        description: `${admin} A disabled client cannot authenticate, and its tokens and the tokens exchanged by it are inactive in introspection. ${seenAt}`,
        security: bearer,
        parameters: [csrf, id],
        requestBody: requestBody(requestSchema(updateClientBody)),
        responses: { ...ok('Changed.', one), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
      delete: {
        operationId: 'deleteClient',
        tags,
        summary: 'Delete a service client',
        description: `${admin} Its tokens and the tokens exchanged by it turn inactive in introspection, and a client registered later with the same id does not revive them. Services that verify with the JWKS alone accept its tokens until they expire. ${seenAt}`,
        security: bearer,
        parameters: [csrf, id],
        responses: { ...ok('Deleted.', { type: 'object', required: ['success'], properties: { success: { const: true } } }), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
    },
    '/admin/clients/{id}/rotate-secret': {
      post: {
        operationId: 'rotateClientSecret',
        tags,
        summary: 'Give a client a new secret; the previous one stays valid for the grace period',
        description: `${admin} Two secrets are valid until \`previousSecretExpiresAt\` (default a day, at most ${MAX_ROTATION_GRACE_SECONDS} s) or until the rotation is finished; a second rotation while one is open is 409 \`rotation_in_progress\`. The body is optional.`,
        security: bearer,
        parameters: [csrf, id],
        requestBody: requestBody(requestSchema(rotateSecretBody), false),
        responses: { ...created('Rotated.'), ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'ServiceUnavailable') },
      },
    },
    '/admin/clients/{id}/finish-rotation': {
      post: {
        operationId: 'finishClientSecretRotation',
        tags,
        summary: 'End an open rotation: only the newest secret is valid afterwards',
        description: `${admin} Harmless without an open rotation. ${seenAt}`,
        security: bearer,
        parameters: [csrf, id],
        responses: { ...ok('Finished.', one), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
    },
  };
}
