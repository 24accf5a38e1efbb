import { Router } from 'express';
import { packageInfo } from '../../version.js';
import { corsOpen } from '../middleware/cors.js';
import { openApiDocument } from '../openapi/document.js';

/** GET /openapi.json: public, readable from every origin without credentials. */
export function openApiRoutes(deps: { issuer: string; corsMaxAgeSeconds: number }): Router {
  const router = Router();
  // Built once: the document depends only on configuration.
  const body = JSON.stringify(openApiDocument({ issuer: deps.issuer, version: packageInfo.version }));
  router.get('/openapi.json', corsOpen(deps.corsMaxAgeSeconds), (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('application/json').send(body);
  });
  return router;
}
