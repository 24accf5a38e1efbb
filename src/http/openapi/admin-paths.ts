import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../user-search-query.js';
import { bearer, body, bodyErrors, errors, ok, ref, type Json, type Method } from './parts.js';

/**
 * The /admin/users endpoints of the OpenAPI document. Every one needs a BearerPass whose account
 * holds admin:users (401 without a valid one, 403 `permission_denied` JTS-403-02 without the
 * permission), reads PostgreSQL (503 while it is down) and may meet an unknown id (404).
 */
export function adminPaths(): Record<string, Partial<Record<Method, Json>>> {
  const csrf = ref('parameters', 'Csrf');
  const id = ref('parameters', 'UserId');
  const user = { type: 'object', required: ['user'], properties: { user: ref('schemas', 'User') } };
  const revoked = { type: 'integer', minimum: 0, description: 'Sessions this call ended.' };
  const tags = ['admin'];
  const admin = 'Needs admin:users, held by the caller’s account now (a demoted administrator’s BearerPass is refused at once).';
  return {
    '/admin/users': {
      get: {
        operationId: 'searchUsers',
        tags,
        summary: 'Search users by email prefix, a page at a time',
        description: `${admin} Ordered by (email, id) in byte order; the prefix is matched case-insensitively and literally (\`%\` and \`_\` are not wildcards). Pass \`nextCursor\` back as \`cursor\`, with the same \`query\`, for the next page; it is null on the last.`,
        security: bearer,
        parameters: [
          { name: 'query', in: 'query', required: false, schema: { type: 'string', maxLength: 254, default: '' }, description: 'Email prefix; empty lists everyone.' },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: 'The `nextCursor` of the previous page (opaque).' },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
        ],
        responses: {
          ...ok('One page of users.', {
            type: 'object',
            required: ['users', 'nextCursor'],
            properties: { users: { type: 'array', items: ref('schemas', 'User') }, nextCursor: { type: ['string', 'null'] } },
          }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable'),
        },
      },
      post: {
        operationId: 'createUser',
        tags,
        summary: 'Create a user',
        description: `${admin} The password follows the registration policy; \`name\` defaults to the part of the email before "@".`,
        security: bearer,
        parameters: [csrf],
        requestBody: body('CreateUserRequest'),
        responses: {
          '201': { description: 'Created.', headers: { Location: { schema: { type: 'string' }, description: '/admin/users/{id}' } }, content: { 'application/json': { schema: user } } },
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'Conflict', 'ServiceUnavailable'),
        },
      },
    },
    '/admin/users/{id}': {
      get: {
        operationId: 'getUser',
        tags,
        summary: 'Read one user',
        description: admin,
        security: bearer,
        parameters: [id],
        responses: { ...ok('The user.', user), ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable') },
      },
      patch: {
        operationId: 'updateUser',
        tags,
        summary: 'Change a user’s name, permissions or disabled flag',
        description: `${admin} Disabling ends every session of the user at once; new permissions show at the user’s next renewal. Refused with 409 \`last_admin\` when it would leave no enabled account holding admin:users. \`mfaRequired: true\` applies from the user’s next sign-in: without an authenticator it answers \`mfa_enrollment_required\` and only enrols one.`,
        security: bearer,
        parameters: [csrf, id],
        requestBody: body('UpdateUserRequest'),
        responses: {
          ...ok('Changed.', { type: 'object', required: ['user', 'revokedSessions'], properties: { user: ref('schemas', 'User'), revokedSessions: revoked } }),
          ...errors(...bodyErrors, 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'ServiceUnavailable'),
        },
      },
      delete: {
        operationId: 'deleteUser',
        tags,
        summary: 'Delete a user and end all their sessions',
        description: `${admin} The user’s BearerPasses are refused by this server at once (JTS-401-04), their StateProofs no longer renew. Refused with 409 \`last_admin\` for the last enabled account holding admin:users.`,
        security: bearer,
        parameters: [csrf, id],
        responses: {
          ...ok('Deleted.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: revoked } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'ServiceUnavailable'),
        },
      },
    },
    '/admin/users/{id}/factors': {
      delete: {
        operationId: 'resetUserFactors',
        tags,
        summary: 'Remove every second factor of a user (a lost device)',
        description: `${admin} Removes the authenticator app, its recovery codes and every passkey, each audited; the account is mailed when anything was removed. Sessions stay. The password alone signs in again (or, with \`mfaRequired\`, asks to enrol a factor). The way back for a passkey-only account, which has no recovery codes.`,
        security: bearer,
        parameters: [csrf, id],
        responses: {
          ...ok('Removed.', {
            type: 'object',
            required: ['success', 'removed'],
            properties: { success: { const: true }, removed: { type: 'object', required: ['totp', 'passkeys'], properties: { totp: { type: 'boolean' }, passkeys: { type: 'integer', minimum: 0 } } } },
          }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable'),
        },
      },
    },
    '/admin/users/{id}/sessions': {
      get: {
        operationId: 'listUserSessions',
        tags,
        summary: 'A user’s live sessions',
        description: `${admin} The shape of GET /jts/sessions; \`current\` marks the caller’s own session.`,
        security: bearer,
        parameters: [id],
        responses: {
          ...ok('Sessions.', { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: ref('schemas', 'Session') } } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable'),
        },
      },
      delete: {
        operationId: 'revokeUserSessions',
        tags,
        summary: 'End every session of a user',
        description: `${admin} Their BearerPasses are refused by this server at once.`,
        security: bearer,
        parameters: [csrf, id],
        responses: {
          ...ok('Ended.', { type: 'object', required: ['success', 'revokedSessions'], properties: { success: { const: true }, revokedSessions: revoked } }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'ServiceUnavailable'),
        },
      },
    },
  };
}
