import { generateClientSecret, hashClientSecret } from '../accounts/client-secret.js';
import type { ServiceClient, SqlClientStore } from '../accounts/sql-client-store.js';

/** Lower-case letters, digits, `-` and `_`, 1–64, starting with a letter or digit: safe in URLs, logs and `prn`. */
export const CLIENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** RFC 6749 §3.3 scope-token (printable ASCII but space, `"` and `\`), at most 128 characters here. */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** A rotation keeps the previous secret valid this long unless told otherwise (deploy window). */
export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;
export const MAX_ROTATION_GRACE_SECONDS = 30 * 86_400;

/** A problem with what the operator asked for (the CLI prints it; an HTTP API would answer 400/404/409). */
export class ClientAdminError extends Error {
  override readonly name = 'ClientAdminError';

  constructor(
    readonly reason: 'invalid' | 'missing' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

export interface NewClientInput {
  id: string;
  scopes: readonly string[];
  audience: string;
}

/**
 * Registration and upkeep of service clients (README "For services"), shared by the CLI and any
 * admin API. A secret is generated here, returned once, and only its hash is stored.
 *
 * Rotation: `rotateSecret` makes a new secret current and keeps the old one valid for
 * `graceSeconds` (default a day) so that every instance of the service can be redeployed;
 * `finishRotation` ends that window early, once the old secret is out of use. A second rotation
 * is refused while one is open, so no secret in use is ever dropped by surprise.
 */
export class ClientAdministration {
  constructor(private readonly clients: SqlClientStore) {}

  async add(input: NewClientInput, now: number): Promise<{ client: ServiceClient; secret: string }> {
    const id = checkId(input.id);
    const scopes = checkScopes(input.scopes);
    const audience = checkAudience(input.audience);
    const secret = generateClientSecret();
    const client: ServiceClient = {
      id,
      secretHash: hashClientSecret(secret),
      previousSecretHash: undefined,
      previousSecretExpiresAt: undefined,
      scopes,
      audience,
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    const outcome = await this.clients.create(client);
    if (outcome === 'id_taken') throw new ClientAdminError('conflict', `a client with id ${id} already exists`);
    if (outcome === 'audience_taken') throw new ClientAdminError('conflict', `another client already has the audience ${audience}`);
    return { client, secret };
  }

  list(): Promise<ServiceClient[]> {
    return this.clients.list();
  }

  /** Disabled clients get no new tokens at once on this server's next refresh (ClientDirectory). */
  async setDisabled(id: string, disabled: boolean, now: number): Promise<ServiceClient> {
    return found(await this.clients.update(checkId(id), { disabled }, now), id);
  }

  async setScopes(id: string, scopes: readonly string[], now: number): Promise<ServiceClient> {
    return found(await this.clients.update(checkId(id), { scopes: checkScopes(scopes) }, now), id);
  }

  async rotateSecret(id: string, graceSeconds: number, now: number): Promise<{ client: ServiceClient; secret: string }> {
    if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
      throw new ClientAdminError('invalid', `the grace period must be 0 to ${MAX_ROTATION_GRACE_SECONDS} seconds`);
    }
    const secret = generateClientSecret();
    const result = await this.clients.rotateSecret(checkId(id), hashClientSecret(secret), now + graceSeconds * 1000, now);
    if (result.outcome === 'missing') throw new ClientAdminError('missing', `no client with id ${id}`);
    if (result.outcome === 'rotation_in_progress') {
      throw new ClientAdminError('conflict', `a rotation of ${id} is open until ${new Date(result.until).toISOString()}; finish it first (rotate-secret --finish)`);
    }
    return { client: result.client, secret };
  }

  /** Only the current secret is valid afterwards. */
  async finishRotation(id: string, now: number): Promise<ServiceClient> {
    return found(await this.clients.update(checkId(id), { previousSecret: null }, now), id);
  }
}

function found(client: ServiceClient | undefined, id: string): ServiceClient {
  if (client === undefined) throw new ClientAdminError('missing', `no client with id ${id}`);
  return client;
}

function checkId(id: string): string {
  if (!CLIENT_ID_PATTERN.test(id)) throw new ClientAdminError('invalid', `client id ${JSON.stringify(id)}: expected 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit`);
  return id;
}

function checkScopes(scopes: readonly string[]): string[] {
  for (const scope of scopes) {
    if (!SCOPE_TOKEN_PATTERN.test(scope)) throw new ClientAdminError('invalid', `scope ${JSON.stringify(scope)}: expected 1 to 128 printable ASCII characters without spaces, quotes or backslashes (RFC 6749 §3.3)`);
  }
  return [...new Set(scopes)];
}

/** An absolute http(s) URL without credentials or fragment: what services put in their verifier's `audience`. */
function checkAudience(audience: string): string {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    throw new ClientAdminError('invalid', `audience ${JSON.stringify(audience)}: expected an absolute https:// (or http://) URL`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username !== '' || url.password !== '' || url.hash !== '' || audience.length > 256) {
    throw new ClientAdminError('invalid', `audience ${JSON.stringify(audience)}: expected an http(s) URL of at most 256 characters, without credentials or fragment`);
  }
  return audience;
}
