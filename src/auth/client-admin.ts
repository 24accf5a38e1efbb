import { generateClientSecret, hashClientSecret } from '../accounts/client-secret.js';
import type { ServiceClient, SqlClientStore } from '../accounts/sql-client-store.js';
import { codedErrorClass, JtsError, type ErrorInfo } from '../jts/errors.js';
import { holds } from '../users/changes.js';
import type { User } from '../users/types.js';
import type { AdminAction, AdminOutcome, AuditSink } from './audit.js';

/** The permission the /admin/clients API requires (README "For services"). */
export const ADMIN_CLIENTS_PERMISSION = 'admin:clients';
/** Lower-case letters, digits, `-` and `_`, 1–64, starting with a letter or digit: safe in URLs, logs and `prn`. */
export const CLIENT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** RFC 6749 §3.3 scope-token (printable ASCII but space, `"` and `\`), at most 128 characters here. */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
export const MAX_CLIENT_SCOPES = 100;
export const MAX_AUDIENCE_LENGTH = 256;
/** A rotation keeps the previous secret valid this long unless told otherwise (deploy window). */
export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;
export const MAX_ROTATION_GRACE_SECONDS = 30 * 86_400;

/** What the operator asked for cannot be done; the CLI prints the message, the admin API answers the row. */
const CLIENT_ADMIN_CODES = {
  /** A malformed id, scope, audience or grace period; the message names the field. */
  client_invalid: { status: 400, key: 'invalid_request', action: 'none', message: 'The client registration is invalid.', expose: true },
  client_not_found: { status: 404, key: 'not_found', action: 'none', message: 'No such client.', expose: true },
  client_id_taken: { status: 409, key: 'client_id_taken', action: 'none', message: 'A client with this id already exists.', expose: true },
  /** One client per audience: the audience names the token-exchange target. */
  audience_taken: { status: 409, key: 'audience_taken', action: 'none', message: 'Another client already has this audience.', expose: true },
  /** A second rotation while the previous secret of the first is still valid. */
  rotation_open: { status: 409, key: 'rotation_in_progress', action: 'none', message: 'A rotation of this client is still open; finish it first.', expose: true },
} as const satisfies Record<string, ErrorInfo>;

export type ClientAdminCode = keyof typeof CLIENT_ADMIN_CODES;

export class ClientAdminError extends codedErrorClass('ClientAdminError', CLIENT_ADMIN_CODES) {}

export interface NewClientInput {
  id: string;
  scopes: readonly string[];
  audience: string;
}

export interface ClientChange {
  disabled?: boolean;
  scopes?: readonly string[];
}

export interface ClientAdministrationDeps {
  clients: Pick<SqlClientStore, 'create' | 'get' | 'list' | 'update' | 'rotateSecret' | 'delete'>;
  /**
   * This server's own audience (JTS_AUDIENCE). No client may have it: its client-credentials
   * tokens would carry the `aud` this server's API accepts from users' BearerPasses.
   */
  serverAudience: string;
  /** Who may administer (the admin API); the CLI, run by the operator at the shell, has none. */
  accounts?: { get(id: string): Promise<User | undefined> };
  /** `admin.action` lines (the admin API); the CLI's output is its own record. */
  audit?: AuditSink;
  /** Called after every successful change, so this instance's ClientDirectory sees it at once. */
  onChange?: () => Promise<void>;
}

/** Who acts: an administrator's prn (admin API), or `cli`. */
export type ClientActor = string;

/**
 * Registration and upkeep of service clients (README "For services"): the one code path behind
 * `npm run client` and /admin/clients. A secret is generated here, returned once, and only its
 * hash is stored. Every call is audited as `admin.action` (when an audit sink is given) with the
 * actor and the client id. Refusals are `ClientAdminError`s; PostgreSQL outages `StoreError`s.
 *
 * Rotation: `rotateSecret` makes a new secret current and keeps the old one valid for
 * `graceSeconds` (default a day) so that every instance of the service can be redeployed;
 * `finishRotation` ends that window early, once the old secret is out of use. A second rotation
 * is refused while one is open, so no secret in use is ever dropped by surprise.
 */
export class ClientAdministration {
  constructor(private readonly deps: ClientAdministrationDeps) {}

  /**
   * The actor's account as PostgreSQL has it now (not as their BearerPass's `perm` says): a
   * demoted or disabled administrator is refused at once with JTS-403-02.
   */
  async authorize(actor: ClientActor, action: AdminAction): Promise<void> {
    const account = await this.deps.accounts?.get(actor);
    if (account && holds(account, ADMIN_CLIENTS_PERMISSION)) return;
    this.record(action, actor, undefined, 'forbidden');
    throw new JtsError('JTS-403-02', { message: `Missing permission: ${ADMIN_CLIENTS_PERMISSION}.` });
  }

  async add(actor: ClientActor, input: NewClientInput, now: number): Promise<{ client: ServiceClient; secret: string }> {
    const action = 'client.create';
    const id = this.checked(action, actor, undefined, () => checkId(input.id));
    const scopes = this.checked(action, actor, id, () => checkScopes(input.scopes));
    const audience = this.checked(action, actor, id, () => checkAudience(input.audience, this.deps.serverAudience));
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
    const outcome = await this.deps.clients.create(client);
    if (outcome === 'id_taken') throw this.refuse(action, actor, id, 'client_id_taken', `a client with id ${id} already exists`);
    if (outcome === 'audience_taken') throw this.refuse(action, actor, id, 'audience_taken', `another client already has the audience ${audience}`);
    await this.changed(action, actor, id);
    return { client, secret };
  }

  async list(actor: ClientActor): Promise<ServiceClient[]> {
    const clients = await this.deps.clients.list();
    this.record('clients.list', actor, undefined, 'ok');
    return clients;
  }

  async get(actor: ClientActor, id: string): Promise<ServiceClient> {
    const client = this.found('client.read', actor, id, await this.deps.clients.get(this.checkedId('client.read', actor, id)));
    this.record('client.read', actor, id, 'ok');
    return client;
  }

  /** Disabled clients get no new tokens, and their tokens turn inactive in introspection, at this server's next directory refresh. */
  setDisabled(actor: ClientActor, id: string, disabled: boolean, now: number): Promise<ServiceClient> {
    return this.update(actor, id, { disabled }, now);
  }

  /** `disabled` and `scopes` in one statement; at least one of them. */
  async update(actor: ClientActor, id: string, change: ClientChange, now: number): Promise<ServiceClient> {
    const action = change.disabled === undefined ? 'client.update' : change.disabled ? 'client.disable' : 'client.enable';
    this.checkedId(action, actor, id);
    const scopes = change.scopes === undefined ? undefined : this.checked(action, actor, id, () => checkScopes(change.scopes ?? []));
    const patch = { ...(change.disabled === undefined ? {} : { disabled: change.disabled }), ...(scopes === undefined ? {} : { scopes }) };
    const client = this.found(action, actor, id, await this.deps.clients.update(id, patch, now));
    await this.changed(action, actor, id, Object.keys(patch));
    return client;
  }

  async rotateSecret(actor: ClientActor, id: string, graceSeconds: number, now: number): Promise<{ client: ServiceClient; secret: string }> {
    const action = 'client.rotate';
    this.checkedId(action, actor, id);
    if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
      throw this.refuse(action, actor, id, 'client_invalid', `\`graceSeconds\` must be a whole number of seconds from 0 to ${MAX_ROTATION_GRACE_SECONDS}`);
    }
    const secret = generateClientSecret();
    const result = await this.deps.clients.rotateSecret(id, hashClientSecret(secret), now + graceSeconds * 1000, now);
    if (result.outcome === 'missing') throw this.refuse(action, actor, id, 'client_not_found', `no client with id ${id}`);
    if (result.outcome === 'rotation_in_progress') {
      throw this.refuse(action, actor, id, 'rotation_open', `a rotation of ${id} is open until ${new Date(result.until).toISOString()}; finish it first (npm run client -- rotate-secret --finish, or POST /admin/clients/${id}/finish-rotation)`);
    }
    await this.changed(action, actor, id);
    return { client: result.client, secret };
  }

  /** Only the current secret is valid afterwards. */
  async finishRotation(actor: ClientActor, id: string, now: number): Promise<ServiceClient> {
    const action = 'client.rotation_finish';
    this.checkedId(action, actor, id);
    const client = this.found(action, actor, id, await this.deps.clients.update(id, { previousSecret: null }, now));
    await this.changed(action, actor, id);
    return client;
  }

  /**
   * Removes the client: it can no longer authenticate, its tokens and the tokens exchanged by it
   * turn inactive in introspection, its audience is no exchange target. A client later registered
   * with the same id does not revive them (introspection compares `iat` with its `createdAt`).
   */
  async delete(actor: ClientActor, id: string): Promise<void> {
    const action = 'client.delete';
    this.checkedId(action, actor, id);
    if (!(await this.deps.clients.delete(id))) throw this.refuse(action, actor, id, 'client_not_found', `no client with id ${id}`);
    await this.changed(action, actor, id);
  }

  private async changed(action: AdminAction, actor: ClientActor, id: string, fields?: string[]): Promise<void> {
    this.record(action, actor, id, 'ok', fields);
    await this.deps.onChange?.();
  }

  private checkedId(action: AdminAction, actor: ClientActor, id: string): string {
    return this.checked(action, actor, undefined, () => checkId(id));
  }

  /** Runs a field check; its refusal is audited as `invalid` (the target only once the id is known good). */
  private checked<T>(action: AdminAction, actor: ClientActor, target: string | undefined, check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof ClientAdminError) this.record(action, actor, target, 'invalid');
      throw error;
    }
  }

  private found(action: AdminAction, actor: ClientActor, id: string, client: ServiceClient | undefined): ServiceClient {
    if (client === undefined) throw this.refuse(action, actor, id, 'client_not_found', `no client with id ${id}`);
    return client;
  }

  private refuse(action: AdminAction, actor: ClientActor, target: string, code: ClientAdminCode, message: string): ClientAdminError {
    this.record(action, actor, target, OUTCOMES[code]);
    return new ClientAdminError(code, { message });
  }

  private record(action: AdminAction, actor: ClientActor, target: string | undefined, outcome: AdminOutcome, fields?: string[]): void {
    this.deps.audit?.({ event: 'admin.action', action, actor, outcome, ...(target === undefined ? {} : { target }), ...(fields === undefined ? {} : { fields }) });
  }
}

const OUTCOMES: Record<ClientAdminCode, AdminOutcome> = {
  client_invalid: 'invalid',
  client_not_found: 'not_found',
  client_id_taken: 'id_taken',
  audience_taken: 'audience_taken',
  rotation_open: 'rotation_open',
};

function invalid(message: string): ClientAdminError {
  return new ClientAdminError('client_invalid', { message });
}

function checkId(id: string): string {
  if (!CLIENT_ID_PATTERN.test(id)) throw invalid(`\`id\` must be 1 to 64 lower-case letters, digits, "-" or "_", starting with a letter or digit (got ${JSON.stringify(id.slice(0, 80))})`);
  return id;
}

function checkScopes(scopes: readonly string[]): string[] {
  if (scopes.length > MAX_CLIENT_SCOPES) throw invalid(`\`scopes\` must hold at most ${MAX_CLIENT_SCOPES} scopes`);
  scopes.forEach((scope, index) => {
    if (!SCOPE_TOKEN_PATTERN.test(scope)) {
      throw invalid(`\`scopes.${index}\` must be 1 to 128 printable ASCII characters without spaces, quotes or backslashes, RFC 6749 §3.3 (got ${JSON.stringify(scope.slice(0, 130))})`);
    }
  });
  return [...new Set(scopes)];
}

/**
 * An absolute http(s) URL without credentials or fragment: what services put in their verifier's
 * `audience`. Never this server's own audience: a client's tokens carry its audience as `aud`, and
 * this server's API accepts tokens with JTS_AUDIENCE (README "For services").
 */
function checkAudience(audience: string, serverAudience: string): string {
  let url: URL | undefined;
  try {
    url = new URL(audience);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['http:', 'https:'].includes(url.protocol) || url.username !== '' || url.password !== '' || url.hash !== '' || audience.length > MAX_AUDIENCE_LENGTH) {
    throw invalid(`\`audience\` must be an absolute http(s) URL of at most ${MAX_AUDIENCE_LENGTH} characters, without credentials or fragment (got ${JSON.stringify(audience.slice(0, 260))})`);
  }
  if (sameAudience(audience, serverAudience)) {
    throw invalid(`\`audience\` must not be this server's own audience (JTS_AUDIENCE ${serverAudience}): tokens for it would pass as users' BearerPasses on this server's API`);
  }
  return audience;
}

/**
 * `aud` is compared as a string (RFC 7519 §4.1.3), but verifiers and proxies differ in what they
 * normalise, so spellings of the same URL are refused too: the host's case, a default port, a
 * trailing slash (WHATWG URL serialisation, then trailing slashes dropped).
 */
function sameAudience(a: string, b: string): boolean {
  return normalAudience(a) === normalAudience(b);
}

function normalAudience(value: string): string {
  let href = value;
  try {
    href = new URL(value).href;
  } catch {
    // Not a URL (JTS_AUDIENCE need not be one): compared as written.
  }
  return href.replace(/\/+$/, '');
}
