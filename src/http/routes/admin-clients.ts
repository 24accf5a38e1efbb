import { Router, type Request, type RequestHandler } from 'express';
import type { ServiceClient } from '../../accounts/sql-client-store.js';
import type { AdminAction } from '../../auth/audit.js';
import { ADMIN_CLIENTS_PERMISSION, DEFAULT_ROTATION_GRACE_SECONDS, type ClientAdministration } from '../../auth/client-admin.js';
import type { Clock } from '../../jts/clock.js';
import { requirePermissions } from '../../verifier/guards.js';
import { NO_STORE, sendJson } from '../../verifier/send-json.js';
import { parseBody } from '../body.js';
import { createClientBody, rotateSecretBody, updateClientBody } from '../client-bodies.js';
import { bearerOf } from '../middleware/authenticate.js';

export interface AdminClientRouteDeps {
  administration: ClientAdministration;
  clock: Clock;
  authenticate: RequestHandler;
  /** The X-JTS-Request + Origin check of /jts and /admin/users, on every state-changing call. */
  csrf: RequestHandler;
  cors: RequestHandler;
  parseJson: RequestHandler;
}

/**
 * A client as the admin API shows it: never a secret or a hash. `previousSecretExpiresAt` is the
 * deadline of an open rotation (two secrets valid until then), `null` when only one is valid.
 */
export function clientView(client: ServiceClient, now: number) {
  const rotationOpen = client.previousSecretHash !== undefined && client.previousSecretExpiresAt !== undefined && client.previousSecretExpiresAt > now;
  return {
    id: client.id,
    audience: client.audience,
    scopes: client.scopes,
    disabled: client.disabled,
    previousSecretExpiresAt: rotationOpen ? new Date(client.previousSecretExpiresAt ?? now).toISOString() : null,
    createdAt: new Date(client.createdAt).toISOString(),
    updatedAt: new Date(client.updatedAt).toISOString(),
  };
}

/**
 * /admin/clients (mounted there): list, read, register, change (`disabled`, `scopes`), delete
 * service clients, rotate a secret and finish a rotation, through the service `npm run client`
 * uses. Each route needs a BearerPass of a live session whose `perm` holds admin:clients
 * (JTS-401-…, then JTS-403-02) and an account that still holds it in PostgreSQL. A secret appears
 * only in the answers of register and rotate (201, no-store), never again.
 */
export function adminClientRoutes(deps: AdminClientRouteDeps): Router {
  const { administration, authenticate, csrf, parseJson, clock } = deps;
  const router = Router();
  router.use(deps.cors);
  const mayAdminister = requirePermissions([ADMIN_CLIENTS_PERMISSION]);
  const admin = (action: AdminAction): RequestHandler[] => [
    authenticate,
    mayAdminister,
    async function stillClientAdministrator(req, _res, next) {
      await administration.authorize(actorOf(req), action);
      next();
    },
  ];
  const actorOf = (req: Request) => bearerOf(req).payload.prn;
  const idOf = (req: Request) => String(req.params.id);
  const view = (client: ServiceClient) => clientView(client, clock.now());
  const location = (id: string) => `/admin/clients/${encodeURIComponent(id)}`;

  router.get('/', ...admin('clients.list'), async (req, res) => {
    sendJson(res, 200, { clients: (await administration.list(actorOf(req))).map(view) }, NO_STORE);
  });

  router.post('/', csrf, ...admin('client.create'), parseJson, async (req, res) => {
    const body = parseBody(req, createClientBody);
    const { client, secret } = await administration.add(actorOf(req), { id: body.id, audience: body.audience, scopes: body.scopes ?? [] }, clock.now());
    sendJson(res, 201, { client: view(client), clientSecret: secret }, { ...NO_STORE, Location: location(client.id) });
  });

  router.get('/:id', ...admin('client.read'), async (req, res) => {
    sendJson(res, 200, { client: view(await administration.get(actorOf(req), idOf(req))) }, NO_STORE);
  });

  router.patch('/:id', csrf, ...admin('client.update'), parseJson, async (req, res) => {
    const patch = parseBody(req, updateClientBody);
    const client = await administration.update(
      actorOf(req),
      idOf(req),
      { ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }), ...(patch.scopes === undefined ? {} : { scopes: patch.scopes }) },
      clock.now(),
    );
    sendJson(res, 200, { client: view(client) }, NO_STORE);
  });

  router.delete('/:id', csrf, ...admin('client.delete'), async (req, res) => {
    await administration.delete(actorOf(req), idOf(req));
    sendJson(res, 200, { success: true }, NO_STORE);
  });

  router.post('/:id/rotate-secret', csrf, ...admin('client.rotate'), parseJson, async (req, res) => {
    const body = parseBody(req, rotateSecretBody);
    const { client, secret } = await administration.rotateSecret(actorOf(req), idOf(req), body?.graceSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS, clock.now());
    sendJson(res, 201, { client: view(client), clientSecret: secret }, { ...NO_STORE, Location: location(client.id) });
  });

  router.post('/:id/finish-rotation', csrf, ...admin('client.rotation_finish'), async (req, res) => {
    sendJson(res, 200, { client: view(await administration.finishRotation(actorOf(req), idOf(req), clock.now())) }, NO_STORE);
  });

  return router;
}
