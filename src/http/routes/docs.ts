import { dirname, join } from 'node:path';
import { Router, type RequestHandler } from 'express';
import { PUBLIC_DIR } from './home.js';

/** The interactive API reference. */
export const DOCS_PATH = '/docs';

/**
 * The files /docs/assets/ serves, and from where: Swagger UI's stylesheet and bundle from the
 * installed swagger-ui-dist (no CDN), the page's own start script from public/docs. An allow-list,
 * not a static folder: the package also holds its demo page, source maps and a start script that
 * loads the Petstore example.
 */
function docsAssets(): ReadonlyMap<string, string> {
  const swaggerUi = dirname(require.resolve('swagger-ui-dist/package.json'));
  return new Map([
    ['/swagger-ui.css', join(swaggerUi, 'swagger-ui.css')],
    ['/swagger-ui-bundle.js', join(swaggerUi, 'swagger-ui-bundle.js')],
    ['/docs.js', join(PUBLIC_DIR, 'docs', 'docs.js')],
  ]);
}

/**
 * GET /docs: Swagger UI rendering /openapi.json, read-only ("Try it out" is off). The files are
 * revalidated (no-cache + ETag) like the demo page's, so a page and a bundle of two releases
 * never meet. The CSP of these paths is the page policy plus `data:` images (security-headers.ts).
 */
export function docsRoutes(): Router {
  const assets = docsAssets();
  const router = Router();
  const page = join(PUBLIC_DIR, 'docs', 'index.html');
  router.get(DOCS_PATH, function docsPage(_req, res, next) {
    res.set('Cache-Control', 'no-cache');
    res.sendFile(page, (error) => {
      if (error) next(error);
    });
  });
  const serveAsset: RequestHandler = function docsAsset(req, res, next) {
    const file = assets.get(req.path);
    if (file === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      next();
      return;
    }
    res.set('Cache-Control', 'no-cache');
    res.sendFile(file, (error) => {
      if (error) next(error);
    });
  };
  // Mounted, not routed: like /assets, files are not API operations.
  router.use(`${DOCS_PATH}/assets`, serveAsset);
  return router;
}
