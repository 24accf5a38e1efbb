import { z } from 'zod';
import { CLIENT_ID_PATTERN, MAX_AUDIENCE_LENGTH, MAX_CLIENT_SCOPES, MAX_ROTATION_GRACE_SECONDS, SCOPE_TOKEN_PATTERN } from '../auth/client-admin.js';

/**
 * The /admin/clients request bodies. They check JSON types and members only ("`id` is required",
 * "`scopes` must be an array of strings", unknown members refused); the shapes of id, scope and
 * audience are the service's to judge (auth/client-admin.ts), so the CLI and the API refuse the
 * same values with the same sentences. The patterns are stated here for the OpenAPI document.
 */

const string = () => z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

const clientId = string().meta({ pattern: CLIENT_ID_PATTERN.source, maxLength: 64, description: 'Lower-case letters, digits, "-" and "_", starting with a letter or digit.' });
const audience = string().meta({
  format: 'uri',
  maxLength: MAX_AUDIENCE_LENGTH,
  description: "An absolute http(s) URL without credentials or fragment, unique among clients, never this server's JTS_AUDIENCE: the `aud` of the client's tokens.",
});
const scopes = z
  .array(z.string({ error: 'must be a string' }).meta({ pattern: SCOPE_TOKEN_PATTERN.source }), { error: (issue) => (issue.input === undefined ? 'is required' : 'must be an array of strings') })
  .meta({ maxItems: MAX_CLIENT_SCOPES, description: 'RFC 6749 §3.3 scope tokens; duplicates are dropped.' });

export const createClientBody = z.strictObject({ id: clientId, audience, scopes: scopes.optional() });

export const updateClientBody = z
  .strictObject({ disabled: z.boolean({ error: 'must be true or false' }).optional(), scopes: scopes.optional() })
  .refine((patch) => patch.disabled !== undefined || patch.scopes !== undefined, { message: 'The body must set at least one of `disabled`, `scopes`.' });

/** Optional: no body at all means the default grace period. */
export const rotateSecretBody = z
  .strictObject({
    graceSeconds: z
      .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a number') })
      .meta({ minimum: 0, maximum: MAX_ROTATION_GRACE_SECONDS, description: 'How long the previous secret stays valid, in seconds (default 86400).' })
      .optional(),
  })
  .optional();
