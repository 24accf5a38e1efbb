import { Router } from 'express';
import { packageInfo } from '../../version.js';
import { PreparedJson, sendJson } from '../../verifier/send-json.js';
import { publicCors } from '../middleware/cors.js';
import { openApiDocument } from '../openapi/document.js';

/** GET /openapi.json: public, readable from every origin without credentials. */
export function openApiRoutes(deps: { issuer: string }): Router {
  const router = Router();
  // Built once: the document depends only on configuration.
  const document = new PreparedJson(openApiDocument({ issuer: deps.issuer, version: packageInfo.version }));
  const headers = { 'Cache-Control': 'public, max-age=300' };
  router.get('/openapi.json', publicCors, function serveOpenApi(_req, res) {
    sendJson(res, 200, document, headers);
  });
  return router;
}
