import { Router } from 'express';
import { stringify } from 'yaml';
import { packageInfo } from '../../version.js';
import { PreparedJson, sendJson } from '../../verifier/send-json.js';
import { publicCors } from '../middleware/cors.js';
import { openApiDocument } from '../openapi/document.js';

/** GET /openapi.json and /openapi.yaml (the same document): public, readable from every origin without credentials. */
export function openApiRoutes(deps: { issuer: string }): Router {
  const router = Router();
  // Built once: the document depends only on configuration.
  const content = openApiDocument({ issuer: deps.issuer, version: packageInfo.version });
  const document = new PreparedJson(content);
  // YAML 1.2 (RFC 9512's application/yaml), by the `yaml` package; `aliasDuplicateObjects: false`
  // writes shared objects out in full, as tools that do not resolve YAML anchors expect.
  const yamlText = stringify(content, { aliasDuplicateObjects: false, lineWidth: 0 });
  const headers = { 'Cache-Control': 'public, max-age=300' };
  router.get('/openapi.json', publicCors, function serveOpenApi(_req, res) {
    sendJson(res, 200, document, headers);
  });
  router.get('/openapi.yaml', publicCors, function serveOpenApiYaml(_req, res) {
    res.status(200).set(headers).type('application/yaml; charset=utf-8').send(yamlText);
  });
  return router;
}
