import type { Kysely, Selectable } from 'kysely';
import type { AccountsSchema, ClientsTable } from './database.js';
import { guardDatabase, isUniqueViolation } from './sql-guard.js';

/** A service client as stored (README "For services"); times in milliseconds since the epoch. */
export interface ServiceClient {
  id: string;
  /** base64url SHA-256 of the current secret (client-secret.ts). */
  secretHash: string;
  /** During a rotation: the previous secret's hash, valid until `previousSecretExpiresAt`. */
  previousSecretHash: string | undefined;
  previousSecretExpiresAt: number | undefined;
  /** The scopes the client may ask for (client credentials) or be the target of (token exchange). */
  scopes: string[];
  /** The `aud` of the client's tokens, and its name as a token-exchange target; unique. */
  audience: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type ClientPatch = Partial<Pick<ServiceClient, 'disabled' | 'scopes'>> & {
  /** `null` ends a rotation: only the current secret is valid afterwards. */
  previousSecret?: null;
};

export type CreateClientResult = 'created' | 'id_taken' | 'audience_taken';
export type RotateResult = { outcome: 'rotated'; client: ServiceClient } | { outcome: 'missing' } | { outcome: 'rotation_in_progress'; until: number };

/**
 * Service clients in PostgreSQL (or PGlite). Outages are `StoreError('service_unavailable')`
 * (guardDatabase); expected outcomes are values.
 */
export class SqlClientStore {
  constructor(private readonly db: Kysely<AccountsSchema>) {}

  create(client: ServiceClient): Promise<CreateClientResult> {
    return guardDatabase(async () => {
      try {
        await this.db
          .insertInto('clients')
          .values({
            id: client.id,
            secret_hash: client.secretHash,
            previous_secret_hash: client.previousSecretHash ?? null,
            previous_secret_expires_at: client.previousSecretExpiresAt === undefined ? null : new Date(client.previousSecretExpiresAt),
            scopes: [...client.scopes],
            audience: client.audience,
            disabled: client.disabled,
            created_at: new Date(client.createdAt),
            updated_at: new Date(client.updatedAt),
          })
          .execute();
        return 'created';
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        return (error as { constraint?: string }).constraint === 'clients_pkey' ? 'id_taken' : 'audience_taken';
      }
    });
  }

  get(id: string): Promise<ServiceClient | undefined> {
    return guardDatabase(async () => fromRow(await this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()));
  }

  list(): Promise<ServiceClient[]> {
    return guardDatabase(async () => (await this.db.selectFrom('clients').selectAll().orderBy('id').execute()).map((row) => fromRow(row) as ServiceClient));
  }

  update(id: string, patch: ClientPatch, now: number): Promise<ServiceClient | undefined> {
    return guardDatabase(async () =>
      fromRow(
        await this.db
          .updateTable('clients')
          .set({
            updated_at: new Date(now),
            ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
            ...(patch.scopes === undefined ? {} : { scopes: [...patch.scopes] }),
            ...(patch.previousSecret === null ? { previous_secret_hash: null, previous_secret_expires_at: null } : {}),
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst(),
      ),
    );
  }

  /** Removes the client; false when there was none. */
  delete(id: string): Promise<boolean> {
    return guardDatabase(async () => {
      const result = await this.db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /**
   * Makes `newSecretHash` the current secret and keeps the current one valid until
   * `previousExpiresAt`, in one statement: two operators rotating at once cannot both succeed.
   * Refused while an earlier rotation is still open (its previous secret not yet expired), so a
   * rotation never silently invalidates a secret that is still being rolled out.
   */
  rotateSecret(id: string, newSecretHash: string, previousExpiresAt: number, now: number): Promise<RotateResult> {
    return guardDatabase(async () => {
      const row = await this.db
        .updateTable('clients')
        .set((eb) => ({
          previous_secret_hash: eb.ref('secret_hash'),
          previous_secret_expires_at: new Date(previousExpiresAt),
          secret_hash: newSecretHash,
          updated_at: new Date(now),
        }))
        .where('id', '=', id)
        .where((eb) => eb.or([eb('previous_secret_expires_at', 'is', null), eb('previous_secret_expires_at', '<=', new Date(now))]))
        .returningAll()
        .executeTakeFirst();
      if (row !== undefined) return { outcome: 'rotated', client: fromRow(row) as ServiceClient };
      const current = await this.get(id);
      if (current === undefined) return { outcome: 'missing' };
      return { outcome: 'rotation_in_progress', until: current.previousSecretExpiresAt ?? now };
    });
  }
}

function fromRow(row: Selectable<ClientsTable> | undefined): ServiceClient | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id,
    secretHash: row.secret_hash,
    previousSecretHash: row.previous_secret_hash ?? undefined,
    previousSecretExpiresAt: row.previous_secret_expires_at === null ? undefined : new Date(row.previous_secret_expires_at).getTime(),
    scopes: [...row.scopes],
    audience: row.audience,
    disabled: row.disabled,
    createdAt: new Date(row.created_at).getTime(),
    updatedAt: new Date(row.updated_at).getTime(),
  };
}
