import { EVENTS_SCOPE } from '../routes/events.js';
import { errors, ok, type Json, type Method } from './parts.js';

/** The security-event feed (README "Security events"): GET /jts/events (SSE) and GET /jts/events/poll. */

const clientBasic = [{ clientBasic: [] }];
const eventId = { type: 'string', pattern: '^\\d{1,16}-\\d{1,16}$', description: 'A Redis stream entry id, also the SET’s `jti`.', examples: ['1764550000000-0'] };
const AUTH = `HTTP Basic of a service client holding the scope \`${EVENTS_SCOPE}\` (the authenticator of /jts/token): bad or missing credentials are \`401 invalid_client\` with \`WWW-Authenticate: Basic\`, a client without the scope \`403 insufficient_scope\`.`;
const SET =
  'Each SET (RFC 8417) is a compact JWS: header `{"alg","kid","typ":"secevent+jwt"}` with the key of `/.well-known/jts-jwks`; claims `iss`, `iat`, `jti` (= the entry id), `sub_id`, and one event: CAEP `session-revoked` (`sub_id` complex: session and user; `event_timestamp`, `initiating_entity`, `reason_admin.en` one of logout, revoked, replay_detected, password_changed, password_reset, user_disabled, user_deleted, admin, evicted; `jts_not_after`: the latest `exp` a BearerPass of the session can carry) or CAEP `credential-change` (`sub_id` opaque: the user).';

export function eventPaths(): Record<string, Partial<Record<Method, Json>>> {
  return {
    '/jts/events': {
      get: {
        operationId: 'streamSecurityEvents',
        tags: ['services'],
        summary: 'Security events as Server-Sent Events: every session revocation, signed',
        description: `${AUTH} Without \`Last-Event-ID\` or \`after\` the stream starts at the oldest retained event, then follows live. Frames: \`id: <entry id>\` / \`event: set\` / \`data: <SET>\`; a comment \`: keepalive\` every 15 s; first, when the requested id is older than the oldest retained entry, \`event: gap\` with \`data: {"oldest":"<id>"}\`. ${SET} At most JTS_EVENTS_MAX_STREAMS_PER_CLIENT streams per client on one instance (\`429\` beyond). The stream ends when the instance shuts down; reconnect with \`Last-Event-ID\`.`,
        security: clientBasic,
        parameters: [
          { name: 'Last-Event-ID', in: 'header', required: false, schema: eventId, description: 'Resume after this event (what EventSource sends on reconnect); wins over `after`.' },
          { name: 'after', in: 'query', required: false, schema: eventId, description: 'Resume after this event, for clients that cannot set the header.' },
        ],
        responses: {
          '200': {
            description: 'The event stream; never cached.',
            headers: { 'Cache-Control': { schema: { const: 'no-store' } } },
            content: { 'text/event-stream': { schema: { type: 'string', description: 'SSE frames, see above.' }, example: 'retry: 2000\n\nid: 1764550000000-0\nevent: set\ndata: eyJhbGciOiJFUzI1NiIs…\n\n: keepalive\n\n' } },
          },
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'TooManyRequests', 'ServiceUnavailable'),
        },
      },
    },
    '/jts/events/poll': {
      get: {
        operationId: 'pollSecurityEvents',
        tags: ['services'],
        summary: 'Security events by polling (in the spirit of RFC 8936)',
        description: `${AUTH} ${SET}`,
        security: clientBasic,
        parameters: [
          { name: 'after', in: 'query', required: false, schema: eventId, description: 'The `next` of the previous answer; absent: from the oldest retained event.' },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: {
          ...ok('Events after `after`, oldest first; never cached.', {
            type: 'object',
            required: ['events', 'next', 'moreAvailable', 'gap'],
            properties: {
              events: { type: 'array', items: { type: 'object', required: ['id', 'set'], properties: { id: eventId, set: { type: 'string', description: 'The SET (compact JWS).' } } } },
              next: { ...eventId, description: 'Pass as `after` next time.' },
              moreAvailable: { type: 'boolean' },
              gap: { type: 'boolean', description: '`after` is older than the oldest retained event: events may have been trimmed (only ones whose BearerPasses have expired).' },
            },
          }),
          ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'ServiceUnavailable'),
        },
      },
    },
  };
}
